# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, embedsignature=True
"""HJ 212 parse + validate hot path in C (issue 18); :mod:`dualcontrol.core.hj212` is the reference.

This module accepts a packet only when it is sure that the pure-Python codec would accept it and
build the same :class:`~dualcontrol.core.hj212.Packet`: the frame checked in C (CRC16 included), an
ASCII data segment whose header is in the standard's field order with plain values (what the
Python codec's regular-expression fast path takes), and a CP area of ``KEY=VALUE`` pairs without
duplicates, bad numbers or bad times.  Anything else — every rejection, every odd packet —
goes to the Python codec (``parse_packet_python`` / ``parse_segment_python``), which then gives
the result or raises its typed error.  So errors are the Python codec's own, by construction.

The Python objects (``Packet``, ``Decimal``, the field sets, the fallbacks and the default
limits) come in through :func:`configure`, which ``dualcontrol.core.hj212`` calls when it
imports this module; nothing here imports the Python codec (no import cycle).
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.datetime cimport datetime_new, import_datetime
from cpython.dict cimport PyDict_SetItem
from cpython.object cimport PyObject, PyObject_GenericSetAttr
from libc.stdint cimport uint16_t, uint64_t
from cpython.ref cimport Py_INCREF, Py_XDECREF
from libc.string cimport memchr, memcmp, memcpy, memset

cdef extern from "Python.h":
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void* PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    const char* PyUnicode_AsUTF8AndSize(object o, Py_ssize_t* size) except? NULL
    object PyUnicode_DecodeLatin1(const char* s, Py_ssize_t size, const char* errors)
    PyObject* PyDict_GetItemWithError(object d, object key) except? NULL
    PyObject* PyDict_SetDefault(object d, object key, object default) except NULL
    Py_ssize_t PyDict_GET_SIZE(object d)

cdef extern from *:
    """
    /* HJ 212 CRC16 (the standard's wording: XOR into the register's high byte, then 8 shifts
       with 0xA001).  One step is crc = T[(crc >> 8) ^ byte]; only the high byte h carries
       state, h' = M(h ^ byte) with M(i) = T[i] >> 8, and M is linear over GF(2) with order 8.
       So bytes whose distance from the end agrees mod 8 can be XORed first: fold the segment
       into one 64-bit word (big-endian lanes), then 8 look-ups finish it.  The same algorithm
       as crc16() in hj212.py; the differential test checks both against each other. */
    #include <stdint.h>
    #include <string.h>
    static uint16_t hj212_T[256];
    static uint8_t hj212_P[8][256];
    static uint8_t hj212_INIT[8];

    static void hj212_crc_init(void) {
        int i, k;
        for (i = 0; i < 256; i++) {
            uint16_t c = (uint16_t)i;
            for (k = 0; k < 8; k++) c = (c & 1) ? (uint16_t)((c >> 1) ^ 0xA001) : (uint16_t)(c >> 1);
            hj212_T[i] = c;
        }
        for (i = 0; i < 256; i++) hj212_P[0][i] = (uint8_t)i;
        for (k = 1; k < 8; k++)
            for (i = 0; i < 256; i++) hj212_P[k][i] = (uint8_t)(hj212_T[hj212_P[k - 1][i]] >> 8);
        for (k = 0; k < 8; k++) hj212_INIT[k] = hj212_P[k][0xFF];
    }

    static inline uint64_t hj212_load_be64(const unsigned char *p) {
        uint64_t w;
        memcpy(&w, p, 8);
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        return __builtin_bswap64(w);
    #else
        return ((uint64_t)p[0] << 56) | ((uint64_t)p[1] << 48) | ((uint64_t)p[2] << 40)
             | ((uint64_t)p[3] << 32) | ((uint64_t)p[4] << 24) | ((uint64_t)p[5] << 16)
             | ((uint64_t)p[6] << 8) | (uint64_t)p[7];
    #endif
    }

    /* CRC16 of p[0:n]; *ascii = 1 when no byte has the high bit set. */
    static uint16_t hj212_crc16(const unsigned char *p, Py_ssize_t n, int *ascii) {
        uint64_t v = 0, any = 0, w;
        Py_ssize_t r = n & 7, i;
        unsigned x;
        if (n == 0) { *ascii = 1; return 0xFFFF; }
        for (i = 0; i < r; i++) { v = (v << 8) | p[i]; any |= p[i]; }
        for (i = r; i < n; i += 8) { w = hj212_load_be64(p + i); v ^= w; any |= w; }
        *ascii = (any & 0x8080808080808080ULL) == 0;
        x = hj212_P[0][v & 0xFF] ^ hj212_P[1][(v >> 8) & 0xFF] ^ hj212_P[2][(v >> 16) & 0xFF]
          ^ hj212_P[3][(v >> 24) & 0xFF] ^ hj212_P[4][(v >> 32) & 0xFF]
          ^ hj212_P[5][(v >> 40) & 0xFF] ^ hj212_P[6][(v >> 48) & 0xFF]
          ^ hj212_P[7][(v >> 56) & 0xFF] ^ hj212_INIT[(n - 1) & 7];
        return hj212_T[x];
    }
    """
    void hj212_crc_init()
    uint16_t hj212_crc16(const unsigned char* p, Py_ssize_t n, int* ascii)

hj212_crc_init()
import_datetime()

# --------------------------------------------------------------------------------------------
# Configuration (from dualcontrol.core.hj212)
# --------------------------------------------------------------------------------------------

cdef object _packet_type = None
cdef object _decimal = None
cdef object _fallback_packet = None
cdef object _fallback_segment = None
cdef object _default_limits = None
cdef bint _configured = False

# Known CP field suffixes (NUMERIC_FIELDS and Flag) and CP parameters (TIME_PARAMS and a few
# common ones), in small open-addressing tables matched on the bytes: the key object is shared
# (its hash cached) and a suffix's numeric-ness or a parameter's time kind comes with it.
cdef enum:
    NAME_SLOTS = 256  # technical: power of 2, far above the ~30 names (load stays low)
    MAX_NAME = 24  # technical: longest name/short string kept (field names are <= 11)
    INTERN_SLOTS = 1024  # technical: direct-mapped cache of short header/code strings

ctypedef struct Name:
    Py_ssize_t length  # 0 = empty slot
    unsigned char text[MAX_NAME]
    int kind  # suffix: 1 = numeric; parameter: 1 = a time, 2 = DataTime; else 0
    PyObject* obj  # borrowed from _names_kept

cdef Name _suffixes[NAME_SLOTS]
cdef Name _params[NAME_SLOTS]
cdef list _names_kept = []

# Short strings seen lately (ST, CN, PW, MN, pollutant codes, other keys): str objects are
# immutable, so one can be handed out again; a slot holds one reference, replaced on collision.
ctypedef struct Interned:
    Py_ssize_t length  # 0 = empty slot
    unsigned char text[MAX_NAME]
    PyObject* obj  # owned reference

cdef Interned _interned[INTERN_SLOTS]

# Decimals of plain numbers seen lately ([+-]digits[.digits], as stations send them): such a
# text converts exactly, whatever the decimal context, and a Decimal is immutable, so one can be
# handed out again.  Direct-mapped; a slot holds one reference, replaced on collision.
cdef enum:
    NUMBER_SLOTS = 4096  # technical: cache size (a 2011 packet of 6 pollutants has 6 numbers)

ctypedef struct Number:
    Py_ssize_t length  # 0 = empty slot
    unsigned char text[MAX_NAME]
    PyObject* obj  # owned reference
    unsigned int missed  # hash of the last number that missed here: a second miss replaces

cdef Number _numbers[NUMBER_SLOTS]

cdef str _FLAG = "Flag"
cdef str _DICT = "__dict__"

# "No object cached" for _limits_seen and _tables_seen (None is a value callers can pass).
cdef object _NOTHING = object()

# Limits of the last call (frozen dataclass; the object is kept, so its id cannot be reused).
cdef object _limits_seen = _NOTHING
cdef Py_ssize_t _max_data = 0
cdef Py_ssize_t _max_pw = 0
cdef Py_ssize_t _max_mn = 0
cdef long _max_packet_number = 0

# Attributes of the last Hj212Tables (a frozen dataclass: they cannot be rebound; the object is
# kept, so its id cannot be reused).  Only for the exact class, whose flags_for is known.
cdef object _tables_type = None
cdef object _tables_seen = _NOTHING
cdef object _t_versions = None
cdef object _t_legacy_versions = None
cdef object _t_legacy_codes = None
cdef object _t_systems = None
cdef object _t_commands = None
cdef object _t_platform_commands = None
cdef object _t_pollutants = None
cdef object _t_data_flags = None


# Bytes of the CP area: 1 = ';' or ',' (pair separators), 2 = '=', 3 = '-', 0 = any other.
cdef unsigned char _CP_CLASS[256]
memset(_CP_CLASS, 0, sizeof(_CP_CLASS))
_CP_CLASS[59] = 1
_CP_CLASS[44] = 1
_CP_CLASS[61] = 2
_CP_CLASS[45] = 3


cdef inline bint _same(const unsigned char* a, const unsigned char* b, Py_ssize_t n) noexcept nogil:
    """a[0:n] == b[0:n] for short strings (no libc call)."""
    cdef Py_ssize_t i
    for i in range(n):
        if a[i] != b[i]:
            return False
    return True


cdef inline unsigned int _hash(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """FNV-1a of the bytes (table slots only; Python's own str hash is separate)."""
    cdef unsigned int h = 2166136261u
    cdef Py_ssize_t i
    for i in range(n):
        h = (h ^ p[i]) * 16777619u
    return h


cdef int _add_name(Name* table, str name, int kind) except -1:
    """Register ``name`` (every one is needed: an unknown suffix is taken as not numeric)."""
    cdef bytes raw = name.encode("ascii")
    cdef Py_ssize_t n = len(raw)
    cdef unsigned int slot
    cdef int tries
    if n == 0 or n > MAX_NAME:
        raise ValueError(f"field name {name!r} is too long for the compiled codec")
    slot = _hash(<const unsigned char*>PyBytes_AS_STRING(raw), n) & (NAME_SLOTS - 1)
    for tries in range(NAME_SLOTS):
        if table[slot].length == 0:
            table[slot].length = n
            memcpy(table[slot].text, PyBytes_AS_STRING(raw), n)
            table[slot].kind = kind
            _names_kept.append(name)
            table[slot].obj = <PyObject*>name
            return 0
        if table[slot].length == n and memcmp(table[slot].text, PyBytes_AS_STRING(raw), n) == 0:
            table[slot].kind = kind
            return 0
        slot = (slot + 1) & (NAME_SLOTS - 1)
    raise ValueError("too many field names for the compiled codec")


cdef inline Name* _name(Name* table, const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """The entry of the name p[0:n], or NULL."""
    cdef unsigned int slot
    if n > MAX_NAME:
        return NULL
    slot = _hash(p, n) & (NAME_SLOTS - 1)
    while table[slot].length != 0:
        if table[slot].length == n and _same(table[slot].text, p, n):
            return &table[slot]
        slot = (slot + 1) & (NAME_SLOTS - 1)
    return NULL


cdef inline object _small(const unsigned char* p, Py_ssize_t n):
    """str of the ASCII bytes p[0:n], shared with earlier calls when it is in the cache."""
    cdef Interned* slot
    cdef object text
    if n < 2 or n > MAX_NAME:
        return _ascii(p, n)
    slot = &_interned[_hash(p, n) & (INTERN_SLOTS - 1)]
    if slot.length == n and _same(slot.text, p, n):
        return <object>slot.obj
    text = _ascii(p, n)
    hash(text)  # computed once, kept in the str object
    Py_XDECREF(slot.obj)
    Py_INCREF(text)
    slot.obj = <PyObject*>text
    slot.length = n
    memcpy(slot.text, p, n)
    return text


def configure(*, packet_type, tables_type, decimal_type, numeric_fields, time_params,
              parse_packet_python, parse_segment_python, default_limits, flag_suffix="Flag",
              common_params=("RtdInterval", "QnRtn", "ExeRtn", "PolId")):
    """Hand over the Python codec's objects; called once by ``dualcontrol.core.hj212``."""
    global _packet_type, _tables_type, _decimal, _fallback_packet, _fallback_segment
    global _default_limits, _configured, _FLAG, _limits_seen, _tables_seen, _decimal_plain_new
    cdef str name
    _configured = False
    _packet_type = packet_type
    _tables_type = tables_type
    _decimal = decimal_type
    _decimal_plain_new = type(decimal_type) is type and decimal_type.__init__ is object.__init__
    _fallback_packet = parse_packet_python
    _fallback_segment = parse_segment_python
    _default_limits = default_limits
    _FLAG = flag_suffix
    _limits_seen = _NOTHING
    _tables_seen = _NOTHING
    memset(_suffixes, 0, sizeof(_suffixes))
    memset(_params, 0, sizeof(_params))
    _names_kept.clear()
    for name in sorted(numeric_fields):
        _add_name(_suffixes, name, 1)
    if flag_suffix not in numeric_fields:
        _add_name(_suffixes, flag_suffix, 0)
    for name in sorted(time_params):  # every one: an unknown parameter is taken as no time
        _add_name(_params, name, 2 if name == "DataTime" else 1)
    for name in common_params:
        if name not in time_params:
            _add_name(_params, name, 0)
    _configured = True


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

cdef inline bint _isdigit(unsigned char c) noexcept nogil:
    return c >= 48 and c <= 57  # '0'..'9'


cdef inline bint _isident(unsigned char c) noexcept nogil:
    # [0-9A-Za-z_.\-] (the Python codec's fast-path header pattern)
    return (_isdigit(c) or (c >= 65 and c <= 90) or (c >= 97 and c <= 122)
            or c == 95 or c == 46 or c == 45)


cdef inline bint _isnumberchar(unsigned char c) noexcept nogil:
    # "0123456789+-.eE" (_NUMBER_CHARS of the Python codec)
    return _isdigit(c) or c == 43 or c == 45 or c == 46 or c == 101 or c == 69


cdef inline bint _ishex(unsigned char c) noexcept nogil:
    return _isdigit(c) or (c >= 65 and c <= 70) or (c >= 97 and c <= 102)


cdef inline int _hexval(unsigned char c) noexcept nogil:
    if c <= 57:
        return c - 48
    if c <= 70:
        return c - 55
    return c - 87


cdef inline long _number(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    cdef long v = 0
    cdef Py_ssize_t i
    for i in range(n):
        v = v * 10 + (p[i] - 48)
    return v


cdef inline bint _lit(const unsigned char* s, Py_ssize_t n, Py_ssize_t i, const char* text,
                      Py_ssize_t k) noexcept nogil:
    cdef Py_ssize_t j
    if i + k > n:
        return False
    for j in range(k):
        if s[i + j] != <unsigned char>text[j]:
            return False
    return True


cdef inline Py_ssize_t _run(const unsigned char* s, Py_ssize_t n, Py_ssize_t i,
                            bint ident) noexcept nogil:
    """End of the run of digits (or ident characters) starting at ``i``."""
    if ident:
        while i < n and _isident(s[i]):
            i += 1
    else:
        while i < n and _isdigit(s[i]):
            i += 1
    return i


cdef inline object _ascii(const unsigned char* p, Py_ssize_t n):
    """str of ``n`` ASCII bytes (what ``bytes.decode('ascii')`` or slicing gives)."""
    cdef object s
    if n <= 1:
        return PyUnicode_DecodeLatin1(<const char*>p, n, NULL)  # the shared 1-char strings
    s = PyUnicode_New(n, 127)
    memcpy(PyUnicode_DATA(s), p, n)
    return s


cdef object _number_value(const unsigned char* p, Py_ssize_t n):
    """``Decimal(text)`` of a field the Python codec takes as a number, or None (its error).

    The Python codec: non-empty, only "0123456789+-.eE", then Decimal(text) (ArithmeticError
    is its rejection).  Plain numbers come from the cache.
    """
    cdef Py_ssize_t i = 0
    cdef bint plain = True, dot = False, digits = False
    cdef Number* slot = NULL
    cdef unsigned int h = 0
    cdef object value
    if n == 0:
        return None
    if p[0] == 43 or p[0] == 45:  # sign
        i = 1
    while i < n:
        if _isdigit(p[i]):
            digits = True
        elif p[i] == 46 and not dot:  # '.'
            dot = True
        elif _isnumberchar(p[i]):
            plain = False  # exponent, a second sign or dot: Decimal decides
        else:
            return None
        i += 1
    plain = plain and digits and n <= MAX_NAME
    if plain:
        h = _hash(p, n)
        slot = &_numbers[h & (NUMBER_SLOTS - 1)]
        if slot.length == n and _same(slot.text, p, n):
            return <object>slot.obj
    try:
        value = _make_decimal(_ascii(p, n))
    except Exception:
        return None  # the Python codec raises its own error (or whatever Decimal raised)
    if plain:
        if slot.length != 0 and slot.missed != h:
            slot.missed = h  # a number seen once does not evict one that may come again
            return value
        Py_XDECREF(slot.obj)
        Py_INCREF(value)
        slot.obj = <PyObject*>value
        slot.length = n
        memcpy(slot.text, p, n)
    return value


cdef inline int _days_in_month(long y, long m) noexcept nogil:
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    if m == 4 or m == 6 or m == 9 or m == 11:
        return 30
    return 31


cdef inline bint _time_fields(const unsigned char* p, long* out) noexcept nogil:
    """14 ASCII digits yyyyMMddHHmmss that ``datetime.fromisoformat`` accepts -> out[0..5]."""
    cdef int k
    for k in range(14):
        if not _isdigit(p[k]):
            return False
    out[0] = _number(p, 4)
    out[1] = _number(p + 4, 2)
    out[2] = _number(p + 6, 2)
    out[3] = _number(p + 8, 2)
    out[4] = _number(p + 10, 2)
    out[5] = _number(p + 12, 2)
    return (out[0] >= 1 and 1 <= out[1] <= 12 and 1 <= out[2] <= _days_in_month(out[0], out[1])
            and out[3] <= 23 and out[4] <= 59 and out[5] <= 59)


cdef int _use_limits(object limits) except -1:
    """Make ``_max_*`` those of ``limits`` (read once per Limits object)."""
    global _limits_seen, _max_data, _max_pw, _max_mn, _max_packet_number
    cdef Py_ssize_t max_data, max_pw, max_mn
    cdef long max_packet_number
    if limits is _limits_seen:
        return 0
    _limits_seen = _NOTHING  # while the attributes are read (other code may run meanwhile)
    max_data = limits.max_data_length
    max_pw = limits.max_pw_length
    max_mn = limits.max_mn_length
    max_packet_number = limits.max_packet_number
    _max_data = max_data
    _max_pw = max_pw
    _max_mn = max_mn
    _max_packet_number = max_packet_number
    _limits_seen = limits
    return 0


cdef inline object _get(object mapping, object key):
    """``mapping.get(key)`` (dict without a method call)."""
    cdef PyObject* found
    if type(mapping) is dict:
        found = PyDict_GetItemWithError(mapping, key)
        if found == NULL:
            return None
        return <object>found
    return mapping.get(key)


cdef extern from *:
    """
    /* object.__new__(tp) */
    static PyObject *hj212_object_new(PyObject *tp, PyObject *empty) {
        return PyBaseObject_Type.tp_new((PyTypeObject *)tp, empty, NULL);
    }
    """
    object hj212_object_new(object tp, object empty)


cdef extern from *:
    """
    /* Decimal(text) without the call machinery: Decimal's tp_new with a 1-tuple that is kept
       between calls.  The tuple is taken out while in use (a nested or other-thread call makes
       its own), and kept again only if nothing else holds it.  type(text) would also call
       tp_init, which for Decimal is object.__init__ and does nothing; configure() checks it. */
    static PyObject *hj212_args1 = NULL;
    static PyObject *hj212_new1(PyObject *tp, PyObject *arg) {
        PyObject *args = hj212_args1, *out;
        hj212_args1 = NULL;
        if (args == NULL) {
            args = PyTuple_New(1);
            if (args == NULL) return NULL;
        }
        Py_INCREF(arg);
        PyTuple_SET_ITEM(args, 0, arg);
        out = ((PyTypeObject *)tp)->tp_new((PyTypeObject *)tp, args, NULL);
        if (Py_REFCNT(args) == 1 && hj212_args1 == NULL) {
            PyTuple_SET_ITEM(args, 0, NULL);
            Py_DECREF(arg);
            hj212_args1 = args;
        } else {
            Py_DECREF(args);  /* frees it with its item, or leaves it to whoever holds it */
        }
        return out;
    }
    """
    object hj212_new1(object tp, object arg)


cdef bint _decimal_plain_new = False  # Decimal(text) is Decimal.__new__ alone (no __init__)


cdef inline object _make_decimal(object text):
    if _decimal_plain_new:
        return hj212_new1(_decimal, text)
    return _decimal(text)


cdef tuple _EMPTY = ()


cdef object _new_packet(dict fields):
    """``object.__new__(Packet)`` with ``fields`` as its ``__dict__`` (``hj212._new_packet``)."""
    cdef object packet = hj212_object_new(_packet_type, _EMPTY)
    PyObject_GenericSetAttr(packet, _DICT, fields)
    return packet


# --------------------------------------------------------------------------------------------
# The segment: header in the standard's order, then the Python codec's _finish checks
# --------------------------------------------------------------------------------------------

cdef int _use_tables(object tables) except -1:
    """Make ``_t_*`` the attributes of ``tables`` (kept while the same exact Hj212Tables comes)."""
    global _tables_seen, _t_versions, _t_legacy_versions, _t_legacy_codes, _t_systems
    global _t_commands, _t_platform_commands, _t_pollutants, _t_data_flags
    if tables is _tables_seen:
        return 0
    _tables_seen = _NOTHING  # while the attributes are read (other code may run meanwhile)
    attributes = (tables.versions, tables.legacy_versions, tables.legacy_codes, tables.systems,
                  tables.commands, tables.platform_commands, tables.pollutants, tables.data_flags)
    (_t_versions, _t_legacy_versions, _t_legacy_codes, _t_systems, _t_commands,
     _t_platform_commands, _t_pollutants, _t_data_flags) = attributes
    # a frozen dataclass of the exact class: the same object has the same attributes
    if type(tables) is _tables_type:
        _tables_seen = tables
    return 0


cdef object _segment(object segment, const unsigned char* s, Py_ssize_t n, object tables,
                     object limits):
    """The Packet of an ASCII data segment, or None when the Python codec must decide.

    The cached limits and tables attributes are copied to locals first: any allocation may run
    other Python code (another thread's parse with other limits or tables).
    """
    cdef Py_ssize_t i = 0, j, qn_at = -1, st_at, cn_at, pw_at, pw_end, mn_at, mn_end
    cdef Py_ssize_t flag_at = -1, flag_end = 0, pnum_at = -1, pnum_end = 0, pno_at = 0, pno_end = 0
    cdef Py_ssize_t cp_at, cp_end, p, q, eq, dash, code_at = 0, code_len = -1
    cdef long flag = -1, pnum = 0, pno = 0, version_number
    cdef long t[6]
    cdef unsigned char ch
    cdef Py_ssize_t datatime_at = -1
    cdef Name* name
    cdef Py_ssize_t size
    cdef bint numeric
    cdef list warnings = None
    cdef dict values, params, source_codes, entry = None
    cdef object qn = None, version = None, legacy_map = None, code = None, mapped, key, suffix
    cdef object text, flag_obj = None, pnum_obj = None, pno_obj = None, data_time = None
    cdef object known_flags = None, data_flag, pollutants
    cdef bint unknown = False  # a code or data flag not in the tables: warnings in order below

    cdef Py_ssize_t max_pw, max_mn
    cdef long max_packet_number
    cdef object t_versions, t_legacy_versions, t_legacy_codes, t_systems, t_commands
    cdef object t_platform_commands, t_pollutants = None, t_data_flags
    cdef bint exact_tables

    _use_limits(limits)
    max_pw = _max_pw
    max_mn = _max_mn
    max_packet_number = _max_packet_number

    # (?:QN=(\d{17});)?ST=(\d\d);CN=(\d{4});PW=(ident{1,pw});MN=(ident{1,mn});
    # (?:Flag=(\d{1,3});)?(?:PNUM=(\d{1,4});PNO=(\d{1,4});)?CP=&&
    if _lit(s, n, 0, b"QN=", 3):
        if _run(s, n, 3, False) != 20 or not _lit(s, n, 20, b";", 1):
            return None
        qn_at = 3
        i = 21
    if not _lit(s, n, i, b"ST=", 3) or _run(s, n, i + 3, False) < i + 5 \
            or not _lit(s, n, i + 5, b";", 1):
        return None
    st_at = i + 3
    i += 6
    if not _lit(s, n, i, b"CN=", 3) or _run(s, n, i + 3, False) < i + 7 \
            or not _lit(s, n, i + 7, b";", 1):
        return None
    cn_at = i + 3
    i += 8
    if not _lit(s, n, i, b"PW=", 3):
        return None
    pw_at = i + 3
    pw_end = _run(s, n, pw_at, True)
    if pw_end == pw_at or pw_end - pw_at > max_pw or not _lit(s, n, pw_end, b";", 1):
        return None
    i = pw_end + 1
    if not _lit(s, n, i, b"MN=", 3):
        return None
    mn_at = i + 3
    mn_end = _run(s, n, mn_at, True)
    if mn_end == mn_at or mn_end - mn_at > max_mn or not _lit(s, n, mn_end, b";", 1):
        return None
    i = mn_end + 1
    if _lit(s, n, i, b"Flag=", 5):
        flag_at = i + 5
        flag_end = _run(s, n, flag_at, False)
        if flag_end == flag_at or flag_end - flag_at > 3 or not _lit(s, n, flag_end, b";", 1):
            return None
        i = flag_end + 1
    if _lit(s, n, i, b"PNUM=", 5):
        pnum_at = i + 5
        pnum_end = _run(s, n, pnum_at, False)
        if pnum_end == pnum_at or pnum_end - pnum_at > 4 or not _lit(s, n, pnum_end, b";PNO=", 5):
            return None
        pno_at = pnum_end + 5
        pno_end = _run(s, n, pno_at, False)
        if pno_end == pno_at or pno_end - pno_at > 4 or not _lit(s, n, pno_end, b";", 1):
            return None
        i = pno_end + 1
    if not _lit(s, n, i, b"CP=&&", 5):
        return None
    cp_at = i + 5
    cp_end = n - 2
    if cp_at > cp_end or s[n - 2] != 38 or s[n - 1] != 38:  # segment ends with "&&"
        return None

    # _finish: QN, Flag, PNUM/PNO
    if qn_at >= 0:
        if not _time_fields(s + qn_at, t):
            return None
        qn = _ascii(s + qn_at, 17)
    if flag_at >= 0:
        flag = _number(s + flag_at, flag_end - flag_at)
        if flag > 255:
            return None
        flag_obj = flag
    if pnum_at >= 0:
        pnum = _number(s + pnum_at, pnum_end - pnum_at)
        pno = _number(s + pno_at, pno_end - pno_at)
        if not (1 <= pnum <= max_packet_number and 1 <= pno <= max_packet_number) or pno > pnum:
            return None
        if flag >= 0 and not flag & 2:  # FLAG_PARTS
            warnings = ["PNUM/PNO present but Flag bit D is 0"]
        pnum_obj = pnum
        pno_obj = pno
    elif flag >= 0 and flag & 2:
        return None
    st = _small(s + st_at, 2)
    cn = _small(s + cn_at, 4)

    version_number = (flag if flag >= 0 else 0) >> 2
    if tables is not None:
        _use_tables(tables)
        t_versions = _t_versions
        t_legacy_versions = _t_legacy_versions
        t_legacy_codes = _t_legacy_codes
        t_systems = _t_systems
        t_commands = _t_commands
        t_platform_commands = _t_platform_commands
        t_pollutants = _t_pollutants
        t_data_flags = _t_data_flags
        exact_tables = _tables_seen is tables
        if warnings is None:
            warnings = []
        version = _get(t_versions, version_number)
        if version is None:
            warnings.append(f"unknown protocol version {version_number} in Flag")
        if version_number in t_legacy_versions:
            legacy_map = t_legacy_codes
        if st not in t_systems:
            warnings.append(f"unknown ST {st}")
        if cn not in t_commands and cn not in t_platform_commands:
            warnings.append(f"unknown CN {cn}")
        if exact_tables and version is not None and type(t_data_flags) is dict:
            # Hj212Tables.flags_for(version), inlined (exact class, version with flags of its
            # own): pollutant codes and data flags are then checked while they are read
            known_flags = _get(t_data_flags, version)

    values = {}
    params = {}
    source_codes = {}
    if cp_end > cp_at:
        if memchr(s + cp_at, 38, cp_end - cp_at) != NULL:  # '&' inside the data area
            return None
        p = cp_at
        while True:
            # one pair p..q: KEY=VALUE up to ';' or ','; eq at the first '=', dash at the
            # first '-' before it
            eq = -1
            dash = -1
            q = p
            while q < cp_end:
                ch = _CP_CLASS[s[q]]
                if ch:
                    if ch == 1:  # ';' ','
                        break
                    if eq < 0:
                        if ch == 2:  # '='
                            eq = q
                        elif dash < 0:  # '-'
                            dash = q
                q += 1
            if q > p:
                if eq <= p:
                    return None  # not KEY=VALUE
                if dash < 0:  # a parameter (DataTime, RtdInterval …)
                    name = _name(_params, s + p, eq - p)
                    if name != NULL:
                        key = <object>name.obj
                        if name.kind:
                            if q - eq - 1 != 14 or not _time_fields(s + eq + 1, t):
                                return None
                            if name.kind == 2:
                                datatime_at = eq + 1
                    else:
                        key = _small(s + p, eq - p)
                    size = PyDict_GET_SIZE(params)
                    PyDict_SetItem(params, key, _ascii(s + eq + 1, q - eq - 1))
                    if PyDict_GET_SIZE(params) == size:
                        return None  # a duplicate
                else:
                    if dash == p or dash + 1 == eq:
                        return None  # not CODE-FIELD
                    if code_len != dash - p or not _same(s + code_at, s + p, code_len):
                        code = _small(s + p, dash - p)
                        code_at = p
                        code_len = dash - p
                        if legacy_map is not None:
                            mapped = _get(legacy_map, code)
                            if mapped is not None:
                                source_codes[mapped] = code
                                code = mapped
                        entry = {}
                        if <PyObject*>entry == PyDict_SetDefault(values, code, entry):
                            if known_flags is not None and code not in t_pollutants:
                                unknown = True
                        else:
                            entry = <dict>_get(values, code)  # a code seen before
                    name = _name(_suffixes, s + dash + 1, eq - dash - 1)
                    if name != NULL:
                        suffix = <object>name.obj
                        numeric = name.kind
                    else:
                        suffix = _small(s + dash + 1, eq - dash - 1)
                        numeric = False  # every NUMERIC_FIELDS name is in the table
                    if numeric:
                        text = _number_value(s + eq + 1, q - eq - 1)
                        if text is None:
                            return None
                    else:
                        text = _ascii(s + eq + 1, q - eq - 1)
                        if known_flags is not None and suffix is _FLAG and text not in known_flags:
                            unknown = True
                    size = PyDict_GET_SIZE(entry)
                    PyDict_SetItem(entry, suffix, text)
                    if PyDict_GET_SIZE(entry) == size:
                        return None  # a duplicate
            if q >= cp_end:
                break
            p = q + 1
    if datatime_at >= 0:
        _time_fields(s + datatime_at, t)
        data_time = datetime_new(t[0], t[1], t[2], t[3], t[4], t[5], 0, None)

    if tables is not None and values and (known_flags is None or unknown):
        if known_flags is None:
            known_flags = tables.flags_for(version)
        pollutants = t_pollutants
        for code, entry in values.items():
            if code not in pollutants:
                warnings.append(f"unknown pollutant code {code}")
            data_flag = entry.get(_FLAG)
            if isinstance(data_flag, str) and data_flag not in known_flags:
                warnings.append(f"unknown data flag {data_flag!r} for {code}")

    return _new_packet({
        "segment": segment,
        "qn": qn,
        "st": st,
        "cn": cn,
        "pw": _small(s + pw_at, pw_end - pw_at),
        "mn": _small(s + mn_at, mn_end - mn_at),
        "flag": flag_obj,
        "pnum": pnum_obj,
        "pno": pno_obj,
        "cp": _ascii(s + cp_at, cp_end - cp_at),
        "data_time": data_time,
        "values": values,
        "params": params,
        "source_codes": source_codes,
        "version": version,
        "extra": {},
        "warnings": tuple(warnings) if warnings else (),
    })


# --------------------------------------------------------------------------------------------
# Entry points (the same signatures as the Python codec's)
# --------------------------------------------------------------------------------------------

cdef object _UNSET = object()


cdef object _packet(object raw, object tables, object limits):
    """The Packet of ``raw`` when the compiled path is sure of it, else None."""
    cdef const unsigned char* b
    cdef Py_ssize_t n, declared, k, max_data
    cdef int ascii = 0
    cdef object data = raw
    if type(raw) is str:
        data = (<str>raw).encode("utf-8", "surrogatepass")
    elif type(raw) is not bytes:
        return None
    _use_limits(limits)
    max_data = _max_data
    b = <const unsigned char*>PyBytes_AS_STRING(data)
    n = PyBytes_GET_SIZE(data)
    if (n < 12 or b[0] != 35 or b[1] != 35 or b[n - 2] != 13 or b[n - 1] != 10
            or not (_isdigit(b[2]) and _isdigit(b[3]) and _isdigit(b[4]) and _isdigit(b[5]))):
        return None  # '##', CRLF, 4-digit length
    declared = _number(b + 2, 4)
    if declared != n - 12 or declared > max_data:
        return None
    for k in range(n - 6, n - 2):
        if not _ishex(b[k]):
            return None
    if hj212_crc16(b + 6, declared, &ascii) != (
        (_hexval(b[n - 6]) << 12) | (_hexval(b[n - 5]) << 8) | (_hexval(b[n - 4]) << 4)
        | _hexval(b[n - 3])
    ) or not ascii:
        return None
    return _segment(_ascii(b + 6, declared), b + 6, declared, tables, limits)


cdef object _packet_or_none(object raw, object tables, object limits):
    """:func:`_packet`, and None for anything unexpected (odd tables or limits objects …): the
    Python codec then gives the outcome, whatever it is."""
    if not _configured:
        raise RuntimeError("dualcontrol.core._hj212_fast is used before configure()")
    try:
        return _packet(raw, tables, limits)
    except Exception:
        return None


def parse_packet(raw, tables=None, limits=_UNSET):
    """Parse and validate one packet (``##`` … CRLF); the Python codec decides any odd case."""
    if limits is _UNSET:
        limits = _default_limits
    packet = _packet_or_none(raw, tables, limits)
    if packet is None:
        return _fallback_packet(raw, tables, limits)
    return packet


def try_packet(raw, tables=None, limits=_UNSET):
    """:func:`parse_packet` on the compiled path only: None where the Python codec decides."""
    if limits is _UNSET:
        limits = _default_limits
    return _packet_or_none(raw, tables, limits)


def parse_segment(segment, tables=None, limits=_UNSET):
    """Parse and validate a data segment; the Python codec decides any odd case."""
    cdef const char* s
    cdef Py_ssize_t n = 0
    cdef object packet = None
    if limits is _UNSET:
        limits = _default_limits
    if not _configured:
        raise RuntimeError("dualcontrol.core._hj212_fast is used before configure()")
    if type(segment) is str:
        try:
            s = PyUnicode_AsUTF8AndSize(segment, &n)
            if n == PyUnicode_GET_LENGTH(segment):  # ASCII
                packet = _segment(segment, <const unsigned char*>s, n, tables, limits)
        except Exception:
            packet = None
    if packet is None:
        return _fallback_segment(segment, tables, limits)
    return packet


def crc16(data):
    """HJ 212 CRC16 of ``data`` (bytes) computed in C; equals ``hj212.crc16``."""
    cdef int ascii = 0
    cdef bytes b = bytes(data)
    return hj212_crc16(<const unsigned char*>PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b), &ascii)
