// The program helper's source (Python 3, standard library only), run as `python3 -I -S -c SCRIPT`.
//
// Why a helper: Node starts every child with fork(), which copies the page tables of the whole
// (large) Node process and write-protects its heap, so each program costs the daemon ~10 ms of its
// own CPU before the program runs, and the page faults after it (GC touching the heap) more. Python's
// subprocess starts children with vfork() (Python >= 3.10), which copies nothing: the same program
// started from this small helper costs ~2 ms. docs/performance.md has the numbers.
//
// Protocol: one JSON object per line each way. Request {id, argv, env, stdin?, timeoutMs}, or
// {cancel: id}. Answer {id, code, signal, stdout, stderr, timedOut, canceled, failedToStart}, in
// the order the programs end (each runs in its own thread, so runs overlap as with Node's spawn).
// The helper never runs a shell and looks programs up on the PATH of the request's env. At end of
// its input (vnetfw exited or closed it) it lets running programs finish, then exits: a program is
// never cut mid-way because vnetfw went away (the same rule as the direct runner).
export const HELPER_SCRIPT = String.raw`
import errno, json, signal, subprocess, sys, threading
out = sys.stdout.buffer
lock = threading.Lock()
procs = {}
canceled = set()
# A handler, not SIG_IGN: an ignored signal would be inherited by the programs, a handler is not.
signal.signal(signal.SIGINT, lambda *a: None)
signal.signal(signal.SIGHUP, lambda *a: None)

def reply(m):
    b = (json.dumps(m) + "\n").encode()
    with lock:
        out.write(b)
        out.flush()

def finish(p, data, timeout):
    try:
        return p.communicate(data, timeout=timeout) + (False,)
    except subprocess.TimeoutExpired:
        p.terminate()
        try:
            return p.communicate(timeout=5) + (True,)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.communicate() + (True,)

def run(r):
    i = r["id"]
    try:
        answer(r)
    except BaseException as e:
        # Whatever went wrong, the run gets an answer: vnetfw waits for one.
        procs.pop(i, None)
        reply({"id": i, "code": -1, "failedToStart": True, "stdout": "", "stderr": "program helper: %s: %s" % (type(e).__name__, e)})

def answer(r):
    i = r["id"]
    data = r["stdin"].encode("utf-8", "replace") if "stdin" in r else None
    try:
        p = subprocess.Popen(r["argv"], stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=r["env"], close_fds=True)
    except OSError as e:
        name = errno.errorcode.get(e.errno, "E?") if e.errno else "E?"
        reply({"id": i, "code": -1, "failedToStart": True, "stdout": "", "stderr": "spawn %s %s" % (r["argv"][0], name)})
        return
    procs[i] = p
    if i in canceled:
        p.terminate()
    o, e, timed = finish(p, data, r["timeoutMs"] / 1000.0)
    procs.pop(i, None)
    rc = p.returncode
    m = {"id": i, "code": rc if rc >= 0 else -1, "stdout": o.decode("utf-8", "replace"), "stderr": e.decode("utf-8", "replace")}
    if rc < 0:
        m["signal"] = signal.Signals(-rc).name
    if timed:
        m["timedOut"] = True
    if i in canceled:
        canceled.discard(i)
        m["canceled"] = True
    reply(m)

reply({"ready": 1})
for line in sys.stdin.buffer:
    r = json.loads(line)
    if "cancel" in r:
        canceled.add(r["cancel"])
        p = procs.get(r["cancel"])
        if p is not None:
            p.terminate()
        continue
    threading.Thread(target=run, args=(r,)).start()
`;
