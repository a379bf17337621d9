"""One unit test per class of variable part that used to split an error group
(issue 16): each asserts that the twins of one error share a signature, and that a
different error of the same class keeps its own. The examples are written for these
tests; none is taken from the held-out corpus."""

import pytest

from debugloop.errors import wrap_exceptions


def sig(conn, error_type, message, stacktrace=None):
    with wrap_exceptions():
        return conn.execute(
            "select debugloop.error_signature(%s, %s, %s)", (error_type, message, stacktrace)
        ).fetchone()[0]


def same(conn, *messages, error_type=None):
    return len({sig(conn, error_type, m) for m in messages}) == 1


def test_a_message_with_and_without_its_stack_trace_is_one_error(conn):
    trace = 'Traceback (most recent call last):\n  File "/srv/app/users.py", line 9, in find\n    return rows["user_id"]\nKeyError: \'user_id\'\n'
    other = trace.replace("users.py", "orders.py").replace("find", "lookup")
    assert (
        sig(conn, "KeyError", "'user_id'")
        == sig(conn, "KeyError", "'user_id'", trace)
        == sig(conn, "KeyError", "'user_id'", other)
    )
    assert sig(conn, "KeyError", "'user_id'", trace) != sig(conn, "KeyError", "'email'", trace)
    js = "TypeError: Cannot read properties of undefined (reading 'map')\n    at List (/app/src/List.jsx:4:20)\n"
    assert sig(conn, "TypeError", "Cannot read properties of undefined (reading 'map')", js) == sig(
        conn, "TypeError", "Cannot read properties of undefined (reading 'map')"
    )


def test_the_location_is_a_second_level(conn):
    here = 'Traceback (most recent call last):\n  File "/srv/app/a.py", line 3, in f\nZeroDivisionError: division by zero\n'
    there = here.replace("a.py", "b.py").replace("in f", "in g")
    a, b = (conn.execute("select debugloop.error_location(%s)", (t,)).fetchone()[0] for t in (here, there))
    assert (
        a != b
        and a == conn.execute("select debugloop.error_location(%s)", (here.replace("line 3", "line 30"),)).fetchone()[0]
    )
    assert conn.execute("select debugloop.error_location(null)").fetchone()[0] is None


@pytest.mark.parametrize(
    "twins",
    [
        # dmesg stamps, syslog and journal prefixes with host and program[pid]
        [
            "[    3.141592] e1000e: eth0 NIC Link is Down",
            "[99999.000001] e1000e: eth0 NIC Link is Down",
            "e1000e: eth0 NIC Link is Down",
        ],
        [
            "Nov 11 11:11:11 db-7 sshd[991]: error: maximum authentication attempts exceeded for invalid user admin",
            "Feb  3 04:05:06 bastion.example.net sshd[12]: error: maximum authentication attempts exceeded for invalid user admin",
            "error: maximum authentication attempts exceeded for invalid user admin",
        ],
        # ISO timestamps with a zone and a server's [pid]; level words
        [
            "2026-01-01 00:00:00.001 UTC [4021] LOG:  checkpoints are occurring too frequently (9 seconds apart)",
            "2025-07-30T12:13:14Z [77] LOG:  checkpoints are occurring too frequently (27 seconds apart)",
            "LOG:  checkpoints are occurring too frequently (3 seconds apart)",
        ],
        [
            "ERROR: could not lock config file .git/config: File exists",
            "error: could not lock config file .git/config: File exists",
            "fatal: could not lock config file .git/config: File exists",
        ],
        # numbers glued to units, units that differ
        [
            "heap grew to 18734512kB, limit 20971520kB",
            "heap grew to 3.5 GiB, limit 4 GiB",
            "heap grew to 800MB, limit 1GB",
        ],
        # digit runs read as hex in one twin and as a number in the other
        [
            "bad mapping at 7f00aa12 for region 3",
            "bad mapping at 12345678 for region 4",
            "bad mapping at 0 for region 1",
        ],
        # nginx: date, level, pid#tid and connection id
        [
            "2023/01/01 01:01:01 [crit] 55#55: *9 SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking",
            "2024/12/24 18:00:59 [crit] 7#7: *120433 SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking",
            "SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking",
        ],
        # the kernel's OOM killer: pid, process name, sizes
        [
            "Out of memory: Killed process 1 (a.out) total-vm:100kB, anon-rss:20kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
            "[ 77.5] Out of memory: Killed process 22345 (celery) total-vm:5242880kB, anon-rss:4194304kB, file-rss:128kB, shmem-rss:0kB, UID:999 pgtables:9000kB oom_score_adj:0",
        ],
        # segfaults: program[pid], fault address, instruction and stack pointers, mapping
        [
            "ruby[77]: segfault at 0 ip 0000560d1a2b3c4d sp 00007ffe0a0b0c0d error 4 in libruby.so.3.2[7f00c0000000+300000]",
            "[ 9.9] ruby[8123]: segfault at ffffffffffffffe0 ip 00007f1122334455 sp 00007ffd99887766 error 6 in libruby.so.3.2[7f1120000000+301000]",
        ],
        # GPU: CUDA out of memory in different units, a PCI bus id
        [
            "CUDA out of memory. Tried to allocate 20.00 MiB. GPU 0 has a total capacity of 7.79 GiB of which 1.50 MiB is free.",
            "CUDA out of memory. Tried to allocate 3.00 GiB. GPU 2 has a total capacity of 79.10 GiB of which 640.00 KiB is free.",
        ],
        ["NVRM: Xid (PCI:0000:3b:00): 13, Graphics Exception", "NVRM: Xid (PCI:0000:af:00): 13, Graphics Exception"],
        # an uncaught exception's preamble
        [
            'Exception in thread "worker-2" java.lang.IllegalStateException: queue full',
            "java.lang.IllegalStateException: queue full",
        ],
    ],
)
def test_twins_of_one_class_share_a_signature(conn, twins):
    assert same(conn, *twins), [conn.execute("select debugloop.error_normalize(%s)", (t,)).fetchone()[0] for t in twins]


@pytest.mark.parametrize(
    "apart",
    [
        [
            "python3[1]: segfault at 0 ip 00007f0000000000 sp 00007ffe00000000 error 4 in libc.so.6[7f0000000000+195000]",
            "python3[1]: segfault at 0 ip 00007f0000000000 sp 00007ffe00000000 error 4 in libcuda.so.1[7f0000000000+195000]",
        ],
        ['password authentication failed for user "app"', 'password authentication failed for user "postgres"'],
        [
            "Out of memory: Killed process 1 (java) total-vm:1kB",
            "Memory cgroup out of memory: Killed process 1 (java) total-vm:1kB",
        ],
        [
            "connect() failed (111: Connection refused) while connecting to upstream",
            "upstream timed out (110: Connection timed out) while reading response header from upstream",
        ],
    ],
)
def test_what_needs_another_fix_stays_apart(conn, apart):
    assert not same(conn, *apart)


def sigs(conn, reports):
    return {sig(conn, error_type, message) for error_type, message in reports}


@pytest.mark.parametrize(
    "twins",
    [
        # a type with a "::" namespace before the message, or given apart
        [
            (None, "Gem::ConflictError: Unable to activate foo-1.2, because bar-2.0 conflicts with bar (~> 1.0)"),
            ("Gem::ConflictError", "Unable to activate foo-1.2, because bar-2.0 conflicts with bar (~> 1.0)"),
        ],
        # Ruby's uncaught exception: "<file>:<n>:in `m': message (Type)"
        [
            (None, "app/models/order.rb:12:in `total': undefined method `price' for nil (NoMethodError)"),
            ("NoMethodError", "undefined method `price' for nil"),
        ],
        # Elixir's "** (Type) message", alone or after a logger's prefix
        [
            (None, "** (Ecto.NoResultsError) expected at least one result but got none in query"),
            (
                None,
                "14:02:11.123 [error] Task #PID<0.77.0> ** (Ecto.NoResultsError) expected at least one result but got none in query",
            ),
            ("Ecto.NoResultsError", "expected at least one result but got none in query"),
        ],
        # Rust panics: message on the next line (1.73+), quoted before the location, or alone
        [
            (
                None,
                "thread 'main' panicked at src/lib.rs:10:5:\nattempt to divide by zero\nnote: run with `RUST_BACKTRACE=1`",
            ),
            (None, "thread 'worker-3' panicked at 'attempt to divide by zero', src/calc.rs:88:9"),
            (None, "attempt to divide by zero"),
        ],
        # where a report points after its message: PostgreSQL, MSBuild, PHP, Swift
        [
            (None, "ERROR:  relation 'invoices' does not exist at character 15"),
            (None, "relation 'invoices' does not exist"),
        ],
        [
            (
                None,
                "Program.cs(3,7): error CS0246: The type or namespace name 'Serilog' could not be found [/src/App/App.csproj]",
            ),
            (None, "/src/App/Program.cs(3,7): error CS0246: The type or namespace name 'Serilog' could not be found"),
            (None, "error CS0246: The type or namespace name 'Serilog' could not be found"),
        ],
        [
            (
                None,
                "PHP Fatal error:  Uncaught Error: Call to undefined function mb_strlen() in /var/www/app/text.php:3",
            ),
            ("Error", "Call to undefined function mb_strlen()"),
        ],
        [
            (None, "Fatal error: Division by zero: file App/Math.swift, line 12"),
            (None, "Thread 1: Fatal error: Division by zero"),
            (None, "Fatal error: Division by zero"),
        ],
        # a linter's location and level before the message (ESLint's stylish format)
        [(None, "  12:5  error  Parsing error: Unexpected token )"), (None, "Parsing error: Unexpected token )")],
        # a server's error code around its message: client, driver tuple, PDO
        [
            (None, "ERROR 1146 (42S02): Table 'shop.carts' doesn't exist"),
            ("pymysql.err.ProgrammingError", "(1146, \"Table 'shop.carts' doesn't exist\")"),
            (None, "SQLSTATE[42S02]: Base table or view not found: 1146 Table 'shop.carts' doesn't exist"),
        ],
        # a logger's bracketed tags after its stamp and thread number
        [
            (
                None,
                "2026-12-01T10:11:12.123456Z 8 [ERROR] [MY-012592] [InnoDB] Operating system error number 28 in a file operation.",
            ),
            (None, "[ERROR] [MY-012592] [InnoDB] Operating system error number 28 in a file operation."),
            (None, "Operating system error number 28 in a file operation."),
        ],
        # Go's compound durations
        [
            (None, "job failed: execution took longer than 1h0m0s"),
            (None, "job failed: execution took longer than 45s"),
            (None, "job failed: execution took longer than 2m30s"),
        ],
        # an IPv6 literal with its port is an address like an IPv4 one
        [
            (None, "listen tcp [::]:8080: bind: address already in use"),
            (None, "listen tcp 0.0.0.0:9090: bind: address already in use"),
            (None, "listen tcp [fe80::1]:80: bind: address already in use"),
        ],
        # advice after the message, which a cut output loses
        [
            (None, "connection pool exhausted. This means requests arrive faster than the pool serves them."),
            (None, "connection pool exhausted. Please raise pool_size."),
            (None, "connection pool exhausted"),
        ],
        # a mapping's base and size in hex however short, a tag after the program's name
        [
            (
                None,
                "traps: node[41] general protection fault ip:7f0a1b2c sp:7ffd0000 error:0 in libm.so.6[7f0a10000000+1c5000]",
            ),
            (
                None,
                "traps: node[9] general protection fault ip:7f0a1b2c sp:7ffd0000 error:0 in libm.so.6[7f0a10000000+10000000]",
            ),
        ],
        [
            (None, "haproxy: [emerg] cannot bind socket (Address already in use)"),
            (None, "cannot bind socket (Address already in use)"),
        ],
        # a type that only spells the message's words
        [("ReadTimeout", "read timeout"), (None, "read timeout")],
    ],
)
def test_twins_of_the_report_formats_share_a_signature(conn, twins):
    assert len(sigs(conn, twins)) == 1


@pytest.mark.parametrize(
    "apart",
    [
        [
            (None, "app/models/order.rb:12:in `total': undefined method `price' for nil (NoMethodError)"),
            (None, "app/models/order.rb:12:in `total': undefined method `qty' for nil (NoMethodError)"),
        ],
        [
            (None, "thread 'main' panicked at src/lib.rs:10:5:\nattempt to divide by zero"),
            (None, "thread 'main' panicked at src/lib.rs:10:5:\nattempt to subtract with overflow"),
        ],
        [
            (None, "ERROR 1146 (42S02): Table 'shop.carts' doesn't exist"),
            (None, "ERROR 1146 (42S02): Table 'shop.items' doesn't exist"),
        ],
        [
            (None, "Cannot find name 'expect'. Do you need to install type definitions for a test runner?"),
            (None, "Cannot find name 'expect'."),
        ],
        [("ReadTimeout", "read timeout"), ("ConnectTimeout", "read timeout")],
    ],
)
def test_report_formats_keep_what_needs_another_fix_apart(conn, apart):
    assert len(sigs(conn, apart)) == len(apart)


@pytest.mark.parametrize(
    "twins",
    [
        # box drawing and bullets before a line, a banner rule
        [
            '│ Error: Missing required argument\n│ \n│ The argument "region" is required, but no definition was found.\n╵',
            'Error: Missing required argument\n\nThe argument "region" is required, but no definition was found.',
        ],
        [
            "✖ Cannot connect to the metrics backend at 10.0.0.2:9000",
            "Cannot connect to the metrics backend at 10.0.0.9:9000",
        ],
        [
            "════ CRASH REPORTED BY SCHEDULER ════\nWorker pool exhausted while scheduling batch 812",
            "Worker pool exhausted while scheduling batch 44",
        ],
        # a header that only says that something failed, one that ends with a colon
        [
            "FAILURE: Build failed with an exception.\n\n* What went wrong:\nCould not resolve all artifacts for the release variant.",
            "Could not resolve all artifacts for the release variant.",
        ],
        [
            "Deploy Error at stage.yml:12 (upload):\n  Bucket policy denies writes from this role",
            "Bucket policy denies writes from this role",
        ],
        # a lead of generic words: "INSTALLATION FAILED:", "Unhandled Exception:", "(in promise)"
        [
            "INSTALLATION FAILED: release manifest references a missing storage class",
            "release manifest references a missing storage class",
        ],
        [
            "Uncaught (in promise) Error: Network request to the sync service was rejected",
            "Network request to the sync service was rejected",
        ],
        # a JSON body, nested or escaped, and a logfmt line
        [
            '{"error": {"code": 409, "message": "Snapshot already in progress for volume"}}',
            '{"errors": ["Snapshot already in progress for volume"]}',
            '{"message": "{\\"detail\\": \\"Snapshot already in progress for volume\\"}"}',
            "Snapshot already in progress for volume",
        ],
        [
            'ts=2026-01-01T00:00:00Z level=error caller=store.go:88 msg="compaction failed" err="write segment: no space left on device"',
            'level=error ts=2025-05-05T10:10:10Z caller=store.go:91 msg="compaction failed" err="write segment: no space left on device"',
            "write segment: no space left on device",
        ],
        # a type's name before a message that says enough, a structured tail, letter case
        [
            "QuotaExhausted: Daily upload allowance for this account is used up",
            "Daily upload allowance for this account is used up",
        ],
        [
            'snapshot restore failed: checksum mismatch in block map, full error: {"code": 91, "node": "a"}',
            "snapshot restore failed: checksum mismatch in block map",
        ],
        ["Could NOT find the signing key for this build", "could not find the signing key for this build"],
    ],
)
def test_decorations_headers_and_wrappers_do_not_split_an_error(conn, twins):
    assert same(conn, *twins)


@pytest.mark.parametrize(
    "apart",
    [
        ['{"error": "Lease expired before renewal"}', '{"error": "Lease revoked by the administrator"}'],
        [
            "Deploy Error at a.yml:1 (upload):\n  Bucket policy denies writes from this role",
            "Deploy Error at a.yml:1 (upload):\n  Object lock forbids overwriting this key",
        ],
        ["unknown topic 'billing' requested by consumer", "unknown topic 'audit' requested by consumer"],
        ["KeyError: 'user_id'", "KeyError: 'email'"],
    ],
)
def test_unwrapping_keeps_what_needs_another_fix_apart(conn, apart):
    assert not same(conn, *apart)


def _record(conn, error_type, message):
    signature = conn.execute(
        "select debugloop._error_record(%s, %s, null, null, clock_timestamp())", (error_type, message)
    ).fetchone()[0]
    return conn.execute(
        "select group_signature from debugloop.debug_error_signatures where signature = %s", (signature,)
    ).fetchone()[0]


def test_a_cut_message_joins_the_group_of_the_whole_one(conn):
    whole = "replica sync aborted: upstream journal truncated before the requested offset (segment 42, lag 9s)"
    cut = "replica sync aborted: upstream journal truncated before the requested"
    group = _record(conn, None, whole)
    assert _record(conn, None, cut) == group  # cut after the whole one was seen
    assert conn.execute("select debugloop._error_group(null, %s, null)", (cut + " offset",)).fetchone()[0] == group
    # a whole one seen after its cut twin joins the cut one's group
    first = _record(conn, None, "ledger export stalled: archive writer lost its lease on the")
    assert _record(conn, None, "ledger export stalled: archive writer lost its lease on the bucket lock") == first
    # a cut twin of another type, too few telling words, or other words: a group of its own
    assert _record(conn, "ExportError", "replica sync aborted: upstream journal truncated before") != group
    assert _record(conn, None, "command not found") != _record(conn, None, "command not found: frobnicate --all")
    assert _record(conn, None, "replica sync aborted: upstream journal rotated") != group
