"""Values as data between the candidate and the judge: typed JSON, length-framed, bounded.

The judge never unpickles or evaluates what the candidate sends. decode() builds only builtin
values (None, bool, int, float, str, bytes, complex, list, tuple, dict, set, frozenset), so a
candidate cannot hand the judge an object whose __eq__ it wrote. JSON keeps None/bool/int/float/
str/list apart by itself (nan and inf included); everything else is an object with a type tag.
Stdlib only: this module runs inside the sandbox worker (`python -I`).
"""

import hashlib
import json
import os
import reprlib
import socket
import struct

FORMAT = "wire2"  # bump when the encoding changes: cached expected outputs are keyed by it
MAX_MESSAGE_BYTES = 64 << 20
MAX_ERROR_CHARS = 1000  # of an exception message, on either side
_HEADER = struct.Struct("!I")
_BIG = 1 << 63


def safe_text(text, limit: int = MAX_ERROR_CHARS) -> str:
    """Text from the candidate made fit to store: a string, at most limit characters (and a note of
    how many more there were), every character encodable (a lone surrogate becomes its escape)."""
    if not isinstance(text, str):
        text = ""
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text) - limit} more characters)"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 8, 300, 300
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = 60


def short_repr(value) -> str:
    """A candidate's value for a verdict: shortened where long or deep; never raises (an int with
    more digits than str() allows says how many it has)."""
    try:
        return safe_text(_REPR.repr(value))
    except Exception:
        if type(value) is int:
            return f"<int of {value.bit_length()} bits>"
        return f"<{type(value).__name__} that cannot be shown>"


class WireError(ValueError):
    """A message that is not a value (malformed, too large, too deep, or of an unsupported type)."""


_SCALARS = (str, float, bool, type(None))


def _all_scalars(items) -> bool:
    """Whether a sequence holds only values JSON keeps as they are (a fast path for long
    outputs)."""
    return all(type(v) in _SCALARS or (type(v) is int and -_BIG < v < _BIG) for v in items)


def _plain(value, depth: int = 0):
    if depth > 200:
        raise WireError("value nested more than 200 levels deep")
    kind = type(value)
    if value is None or kind is bool or kind is str or kind is float:
        return value
    if kind is int:
        return value if -_BIG < value < _BIG else {"t": "int", "v": format(value, "x")}
    if kind is list:
        return value if _all_scalars(value) else [_plain(v, depth + 1) for v in value]
    if kind is tuple:
        return {
            "t": "tuple",
            "v": list(value) if _all_scalars(value) else [_plain(v, depth + 1) for v in value],
        }
    if kind is dict:
        return {
            "t": "dict",
            "v": [[_plain(k, depth + 1), _plain(v, depth + 1)] for k, v in value.items()],
        }
    if kind is set or kind is frozenset:
        return {"t": kind.__name__, "v": [_plain(v, depth + 1) for v in value]}
    if kind is bytes:
        return {"t": "bytes", "v": value.hex()}
    if kind is complex:
        return {"t": "complex", "v": [value.real, value.imag]}
    # Subclasses of the builtin types (numpy.float64, a namedtuple, an OrderedDict, ...) travel as
    # their base type: what arrives is plain data, whatever methods the subclass had.
    for base in (bool, int, float, str, bytes, complex, tuple, list, dict, frozenset, set):
        if isinstance(value, base):
            return _plain(base(value), depth)
    if hasattr(type(value), "__index__"):  # numpy integers and the like
        return _plain(int(value.__index__()), depth)
    raise WireError(f"unsupported type {kind.__module__}.{kind.__qualname__}")


def _value(data):
    if data is None or isinstance(data, (bool, str, float, int)):
        return data
    if isinstance(data, list):
        if not any(type(v) is list or type(v) is dict for v in data):
            return data
        return [_value(v) for v in data]
    if not isinstance(data, dict) or set(data) != {"t", "v"}:
        raise WireError("malformed value")
    tag, v = data["t"], data["v"]
    try:
        if tag == "int" and isinstance(v, str):
            return int(v, 16)
        if tag == "tuple" and isinstance(v, list):
            return tuple(_value(v))
        if tag == "dict" and isinstance(v, list):
            return {_value(k): _value(x) for k, x in v}
        if tag == "set" and isinstance(v, list):
            return {_value(x) for x in v}
        if tag == "frozenset" and isinstance(v, list):
            return frozenset(_value(x) for x in v)
        if tag == "bytes" and isinstance(v, str):
            return bytes.fromhex(v)
        if (
            tag == "complex"
            and isinstance(v, list)
            and len(v) == 2
            and all(type(x) is float for x in v)
        ):
            return complex(*v)
    except (TypeError, ValueError) as e:  # an unhashable key or member, a bad pair, bad hex
        raise WireError(f"malformed {tag}: {e}") from None
    raise WireError(f"malformed value with tag {tag!r}")


# a value with more parts than this travels as its digest, where digests are asked for
LARGE_NODES = 1_000_000


def is_large(value, limit: int = LARGE_NODES) -> bool:
    """Whether value has more than limit parts (containers and their items), counted no further than
    that."""
    stack, seen = [value], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > limit:
            return True
        if isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
    return False


def digest(value) -> str:
    """sha256 of the value's repr, taken a slice at a time for a list or tuple (fast, and no giant
    string): how an output too large to travel is compared. repr keeps 1, 1.0 and True, and a tuple
    and a list, apart; a set's or dict's order counts, unlike for ==."""
    h = hashlib.sha256(type(value).__name__.encode())
    if isinstance(value, (list, tuple)):
        for start in range(0, len(value), 4096):
            h.update(repr(value[start : start + 4096]).encode("utf-8", "backslashreplace"))
    else:
        h.update(repr(value).encode("utf-8", "backslashreplace"))
    return h.hexdigest()


def encode_value(value):
    """A value as JSON-ready data (raises WireError for a type that is not data)."""
    return _plain(value)


def decode_value(data):
    """The value back from encode_value's data (raises WireError for anything malformed)."""
    try:
        return _value(data)
    except RecursionError:
        raise WireError("value nested too deeply") from None


def encode(message: dict) -> bytes:
    """A message: a dict of JSON fields whose 'value' field may hold any supported value."""
    body = dict(message)
    if "value" in body:
        body["value"] = _plain(body["value"])
    return json.dumps(body, separators=(",", ":")).encode()


def decode(raw: bytes, values: bool = True) -> dict:
    """A message; with values=False its 'value' field stays as JSON data (for passing on, not for
    use)."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise WireError(f"not JSON: {str(e)[:100]}") from None
    if not isinstance(body, dict):
        raise WireError("a message must be a JSON object")
    if "value" in body and values:
        body["value"] = decode_value(body["value"])
    return body


def send(fd: int, message: dict) -> None:
    write_frame(fd, encode(message))


def write_frame(fd: int, payload: bytes) -> None:
    if len(payload) > MAX_MESSAGE_BYTES:
        raise WireError(
            f"message of {len(payload)} bytes is over the {MAX_MESSAGE_BYTES} byte limit"
        )
    data = memoryview(_HEADER.pack(len(payload)) + payload)
    while data:
        data = data[os.write(fd, data) :]


def _read_exactly(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, values: bool = True) -> dict:
    """The next message; EOFError when the other side is gone, WireError when it sent garbage."""
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size))
    if size > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {size} bytes is over the {MAX_MESSAGE_BYTES} byte limit")
    return decode(_read_exactly(fd, size), values)


# Between the worker and its judge process: a job (with the candidate's descriptors) out, the
# verdict back.
SOCKET_LENGTH = struct.Struct("!Q")


def send_on_socket(sock: socket.socket, payload: bytes, fds: list[int] = ()) -> None:
    header = SOCKET_LENGTH.pack(len(payload))
    if fds:
        socket.send_fds(sock, [header], list(fds))
    else:
        sock.sendall(header)
    sock.sendall(payload)


def receive_from_socket(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(min(n - len(data), 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        data += chunk
    return bytes(data)
