#!/usr/bin/env python3
"""List, per NATS client name, the subjects it published to and subscribed
to, from the log of a nats-server run with `trace: true` (see
permissions.md). Inboxes, ack subjects, heartbeat keys, micro service ids
and ephemeral consumer names are folded into patterns.

    trace-subjects.py nats.log
"""
import re, sys, collections
pat = re.compile(r'"v[^"]*:go:([^"]*)" - <<- \[(PUB|HPUB|SUB) (\S+)(?: (\S+))?')
out = collections.defaultdict(set)
def norm(s):
    s = re.sub(r'_INBOX\.[A-Za-z0-9]+(\..*)?', '_INBOX.>', s)
    s = re.sub(r'\$JS\.ACK\.([^.]+)\.([^.]+)\..*', r'$JS.ACK.\1.\2.>', s)
    s = re.sub(r'\$KV\.(adsync_servers)\..*', r'$KV.\1.<id>', s)
    s = re.sub(r'(\$SRV\.[A-Z]+\.adsync-[a-z-]+)\.[A-Za-z0-9]+$', r'\1.<id>', s)
    s = re.sub(r'\$JS\.FC\..*', r'$JS.FC.>', s)
    s = re.sub(r'(\$JS\.API\.CONSUMER\.CREATE\.KV_[a-z_]+)\.[A-Za-z0-9]+(\..*)?', r'\1.<ephemeral>\2', s)
    s = re.sub(r'(\$JS\.API\.CONSUMER\.CREATE\.ADSYNC_CONTROL)\.[A-Za-z0-9]{6,}(\..*)?$', r'\1.<ephemeral>\2', s)
    s = re.sub(r'(\$JS\.API\.CONSUMER\.(DELETE|INFO)\.KV_[a-z_]+)\.[A-Za-z0-9]{10,}', r'\1.<ephemeral>', s)
    s = re.sub(r'(\$JS\.API\.CONSUMER\.(DELETE|INFO|MSG\.NEXT)\.ADSYNC_CONTROL)\.[A-Za-z0-9]{16,}', r'\1.<ephemeral>', s)
    return s
for line in open(sys.argv[1]):
    m = pat.search(line)
    if not m: continue
    client, op, subj = m.group(1), m.group(2), m.group(3)
    out[client].add(('SUB' if op=='SUB' else 'PUB') + ' ' + norm(subj))
for c in sorted(out):
    print('==', c)
    for s in sorted(out[c]): print('  ', s)
