"""``dualcontrol hj212 check FILE``: one JSON object per packet (issue 6).

Vectors: the Annex example of shared/reference/08_hj212.md (length 101, CRC 1C80) and packets
built in tests/core/test_hj212.py.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from dualcontrol.cli import main

ANNEX = (
    "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;"
    "Flag=5;CP=&&RtdInterval=30&&1C80"
)
MINUTE = (
    "##0218QN=20240601085900123;ST=32;CN=2051;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
    "CP=&&DataTime=20240601085800;w01018-Avg=40.1,w01018-Min=38.2,w01018-Max=42.0,"
    "w01018-Cou=1.23,w01018-Flag=N;w21003-Avg=2.31,w21003-Flag=N&&A3C1"
)
LEGACY = (
    "##0143ST=32;CN=2011;PW=123456;MN=88888880000001;CP=&&DataTime=20100101120000;"
    "011-Rtd=40.1,011-Flag=N;060-Rtd=2.0,060-Flag=N;B01-Rtd=12.5,B01-Flag=N&&F6C1"
)


def check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *lines: str, crlf: bool = False
) -> tuple[int, list[dict[str, object]], str]:
    path = tmp_path / "packets.txt"
    path.write_bytes(("\r\n" if crlf else "\n").join(lines).encode("utf-8") + b"\n")
    code = main(["hj212", "check", str(path)])
    out = capsys.readouterr()
    return code, [json.loads(line) for line in out.out.splitlines()], out.err


def test_valid_packets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, results, err = check(tmp_path, capsys, ANNEX, MINUTE, crlf=True)
    assert code == 0
    assert err == "hj212 check: 2 packets, 2 valid, 0 invalid\n"
    assert results[0] == {
        "line": 1,
        "valid": True,
        "error": None,
        "error_code": None,
        "st": "32",
        "cn": "1062",
        "mn": "010000A8900016F000169DC0",
        "qn": "20160801085857223",
        "flag": 5,
        "version": "HJ 212-2017",
        "pnum": None,
        "pno": None,
        "data_time": None,
        "values": {},
        "params": {"RtdInterval": "30"},
        "source_codes": {},
        "warnings": [],
    }
    assert results[1]["data_time"] == "2024-06-01T08:58:00"
    assert results[1]["values"] == {
        "w01018": {"Avg": 40.1, "Min": 38.2, "Max": 42.0, "Cou": 1.23, "Flag": "N"},
        "w21003": {"Avg": 2.31, "Flag": "N"},
    }


def test_2005_packet_reports_mapped_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, [result], _ = check(tmp_path, capsys, LEGACY)
    assert result["version"] == "HJ/T 212-2005"
    assert result["flag"] is None and result["qn"] is None
    assert result["values"] == {
        "w01018": {"Rtd": 40.1, "Flag": "N"},
        "w21003": {"Rtd": 2.0, "Flag": "N"},
        "w00000": {"Rtd": 12.5, "Flag": "N"},
    }
    assert result["source_codes"] == {"w01018": "011", "w21003": "060", "w00000": "B01"}


def test_invalid_packets_carry_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, results, err = check(
        tmp_path, capsys, ANNEX[:-4] + "1C81", "", "##0100" + ANNEX[6:], "nonsense packet"
    )
    assert code == 1
    assert err == "hj212 check: 3 packets, 0 valid, 3 invalid\n"
    assert results == [
        {
            "line": 1,
            "valid": False,
            "error": "CRC field is 1C81, data segment's CRC is 1C80",
            "error_code": "crc_mismatch",
        },
        {
            "line": 3,
            "valid": False,
            "error": "length field says 100 bytes, data segment has 101",
            "error_code": "length_mismatch",
        },
        {
            "line": 4,
            "valid": False,
            "error": "packet starts with b'no', not '##'",
            "error_code": "bad_header",
        },
    ]


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    class Stdin:
        buffer = io.BytesIO((ANNEX + "\n").encode())

    monkeypatch.setattr("sys.stdin", Stdin)
    assert main(["hj212", "check", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True


def test_missing_file_is_an_operator_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["hj212", "check", str(tmp_path / "nope.txt")]) == 2
    assert "dualcontrol hj212: error: cannot read" in capsys.readouterr().err


def test_max_data_length_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.txt"
    path.write_text(ANNEX + "\n")
    assert main(["hj212", "check", "--max-data-length", "100", str(path)]) == 1
    assert json.loads(capsys.readouterr().out)["error_code"] == "too_long"
