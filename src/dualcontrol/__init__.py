"""dualcontrol — 节能减排目标责任管理平台."""

__version__ = "0.1.0"
