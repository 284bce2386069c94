#!/usr/bin/env python3
"""Drive a command through a real pseudo-terminal, as a person at a terminal would.

Usage: pty-drive.py SCRIPT.json -- COMMAND [ARG...]

SCRIPT.json: {"stepTimeoutS": 15, "steps": [{"expect": "REGEX", "send": "TEXT"}, ...]}
Each step waits (at most stepTimeoutS) until REGEX matches the output after the previous
match, then types TEXT and Enter. "send" may be omitted (only wait); "eof": true sends
Ctrl-D instead. After the last step the output is read until the command exits.

Prints one JSON object: {"ok", "exitCode", "failedStep", "error", "transcript"}; a step that
times out kills the command (SIGKILL) and reports what it was waiting for.
"""
import json
import os
import pty
import re
import select
import signal
import sys
import time

EXIT_WAIT_S = 30


def read_some(fd, deadline):
    """Bytes available before the deadline; b'' at end of output, None on timeout."""
    left = deadline - time.monotonic()
    if left <= 0:
        return None
    ready, _, _ = select.select([fd], [], [], left)
    if not ready:
        return None
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the child closed the terminal
        return b''


def run(script, command):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ['TERM'] = 'dumb'
        os.execvp(command[0], command)
    out = bytearray()
    position = 0
    result = {'ok': True, 'exitCode': None, 'failedStep': None, 'error': None}
    timeout = float(script.get('stepTimeoutS', 15))
    for index, step in enumerate(script['steps']):
        pattern = re.compile(step['expect'])
        deadline = time.monotonic() + timeout
        match = None
        while match is None:
            match = pattern.search(out.decode('utf-8', 'replace'), position)
            if match is not None:
                break
            chunk = read_some(fd, deadline)
            if not chunk:
                why = 'timed out' if chunk is None else 'output ended'
                result.update(ok=False, failedStep=index, error=f'{why} waiting for /{step["expect"]}/')
                break
            out.extend(chunk)
        if match is None:
            break
        position = match.end()
        if step.get('eof'):
            os.write(fd, b'\x04')
        elif 'send' in step:
            os.write(fd, step['send'].encode('utf-8') + b'\r')
    if not result['ok']:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + EXIT_WAIT_S
    while True:
        chunk = read_some(fd, deadline)
        if not chunk:
            break
        out.extend(chunk)
    if result['ok'] and time.monotonic() >= deadline:
        os.kill(pid, signal.SIGKILL)
        result.update(ok=False, error='the command did not exit after the last step')
    _, status = os.waitpid(pid, 0)
    result['exitCode'] = os.waitstatus_to_exitcode(status)
    result['transcript'] = out.decode('utf-8', 'replace')
    os.close(fd)
    return result


def main():
    if len(sys.argv) < 4 or sys.argv[2] != '--':
        sys.stderr.write('usage: pty-drive.py SCRIPT.json -- COMMAND [ARG...]\n')
        return 2
    with open(sys.argv[1], encoding='utf-8') as f:
        script = json.load(f)
    print(json.dumps(run(script, sys.argv[3:])))
    return 0


if __name__ == '__main__':
    sys.exit(main())
