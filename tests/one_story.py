#!/usr/bin/env python3
# one_story.py - the settings that tie postdrip to Postfix, as the README,
# the man pages' examples and contrib/ show them, tell one story.
#
# Usage: one_story.py SRCDIR POSTDRIP_SETTINGS_FILE
#
# The reference is what an administrator copies: contrib/postfix/
# main.cf.snippet and master.cf.snippet for Postfix, conf/postdrip.conf for
# postdrip. Every display block of the README (indented) and of the man
# pages (.nf/.fi) is read; a block with a master.cf service line is
# master.cf, one with a Postfix parameter is main.cf, one with only
# postdrip settings is postdrip.conf. Then:
#
#  1. a main.cf parameter shown anywhere has the snippet's value;
#  2. a master.cf service the snippet defines has, wherever it is shown,
#     the snippet's columns (chroot included) and no -o that the snippet
#     does not have with that value;
#  3. the settings that join the two sides (sockets, addresses, domains)
#     have conf/postdrip.conf's value wherever they are shown;
#  4. the two sides agree: the milter and LMTP sockets as Postfix names
#     them are postdrip.conf's paths under the queue directory when the
#     service runs chrooted (the paths themselves when not), the policy
#     service is policyd_listen, the injection smtpd listens on
#     inject_address, the bounce domain is relayed and routed to LMTP,
#     the milter unit makes the socket directory, nginx serves the
#     tracker_url host and forwards to tracker_listen.
#
# Each disagreement is printed as "file: what"; the exit status is 1 when
# there is one.
import os
import re
import sys

src = sys.argv[1]
postdrip_names = set(open(sys.argv[2]).read().split())
# Postfix's parameter names (postconf -d), when Postfix is installed; else
# any name with an underscore that is not postdrip's.
postfix_names = set(open(sys.argv[3]).read().split()) if len(sys.argv) > 3 else None


def is_postfix(name):
    if postfix_names is not None:
        return name in postfix_names
    return "_" in name and name not in postdrip_names
QUEUE_DIR = "/var/spool/postfix"
JOINING = ["milter_listen", "lmtp_listen", "policyd_listen", "inject_address",
           "bounce_domain", "tracker_url", "tracker_listen", "data_directory"]
problems = []


def problem(where, what):
    problems.append("%s: %s" % (where, what))


def norm(v):
    return " ".join(v.split())


def unroff(line):
    line = line.replace("\\-", "-").replace("\\e", "\\").replace("\\(aq", "'")
    line = re.sub(r"\\f[BIRP]", "", line)
    return line


def man_blocks(path):
    blocks, cur = [], None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith(".nf"):
            cur = []
        elif line.startswith(".fi"):
            if cur is not None:
                blocks.append(cur)
            cur = None
        elif cur is not None:
            if re.match(r"^\.(ft|RS|RE|in|PP|sp)\b", line):
                continue
            cur.append(unroff(line))
    return blocks


def readme_blocks(path):
    blocks, cur = [], None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("    ") or (cur is not None and line == ""):
            if cur is None:
                cur = []
            cur.append(line[4:])
        else:
            if cur:
                blocks.append(cur)
            cur = None
    if cur:
        blocks.append(cur)
    return blocks


SERVICE = re.compile(r"^([^\s#]+)\s+(inet|unix|unix-dgram|fifo|pass)\s+(\S+)\s+(\S+)\s+(\S+)"
                     r"\s+(\S+)\s+(\S+)\s+(\S+)(.*)$")
PARAM = re.compile(r"^([a-z][a-z0-9_]*)\s*=\s*(.*)$")


def parse(lines):
    """(params, services) of a block: params name -> value (continuations
    joined), services name/type -> (columns, {option: value})."""
    params, services, cur = [], {}, None
    logical = []
    for line in lines:
        if line.strip() == "" or line.lstrip().startswith("#"):
            cur = None
            continue
        if line[0] in " \t" and logical:
            logical[-1] += " " + line.strip()
            continue
        logical.append(line.strip())
    for line in logical:
        m = SERVICE.match(line)
        if m:
            opts = {}
            rest = m.group(9)
            # -o name=value and -o { name = value }
            for o in re.finditer(r"-o\s+(\{[^}]*\}|\S+)", rest):
                t = o.group(1)
                if t.startswith("{"):
                    t = t[1:-1]
                if "=" in t:
                    k, v = t.split("=", 1)
                    opts[k.strip()] = norm(v)
            services[(m.group(1), m.group(2))] = (m.groups()[2:8], opts)
            continue
        m = PARAM.match(line)
        if m and (m.group(1) in postdrip_names or is_postfix(m.group(1))):
            val = re.sub(r"\s+#.*$", "", m.group(2))
            params.append((m.group(1), norm(val)))
    return params, services


def kind(params, services):
    if services:
        return "master"
    if any(is_postfix(n) and n not in postdrip_names for n, _ in params):
        return "main"
    return "postdrip" if params else None


# The references.
ref_main, _ = parse(open(os.path.join(src, "contrib/postfix/main.cf.snippet")).read().splitlines())
ref_main = dict(ref_main)
# The snippet's commented examples (a DKIM milter after postdrip's) are
# alternatives a document may show instead.
alt_main = {}
snippet = open(os.path.join(src, "contrib/postfix/main.cf.snippet")).read().splitlines()
commented = []
for line in snippet:
    m = re.match(r"^#(\s+)(\S.*)$", line)
    if m and PARAM.match(m.group(2)) and len(m.group(1)) <= 4:
        commented.append(m.group(2))
    elif m and commented and len(m.group(1)) > 4:
        commented.append("    " + m.group(2))
    else:
        commented.append("")
for name, val in parse(commented)[0]:
    alt_main.setdefault(name, set()).add(val)
_, ref_master = parse(open(os.path.join(src, "contrib/postfix/master.cf.snippet")).read().splitlines())
ref_conf, _ = parse(open(os.path.join(src, "conf/postdrip.conf")).read().splitlines())
ref_conf = dict(ref_conf)

# What each document shows.
docs = [("README.md", b) for b in readme_blocks(os.path.join(src, "README.md"))]
for page in sorted(os.listdir(os.path.join(src, "man"))):
    if re.match(r".*\.[1-8]$", page):
        docs += [("man/" + page, b) for b in man_blocks(os.path.join(src, "man", page))]
nginx = open(os.path.join(src, "contrib/nginx/postdrip-tracker.conf")).read()
docs.append(("contrib/nginx/postdrip-tracker.conf",
             [l.lstrip("#").strip() for l in nginx.splitlines() if re.match(r"^#\s+[a-z_]+ = ", l)]))

checked = {"main": 0, "master": 0, "postdrip": 0}
for where, block in docs:
    params, services = parse(block)
    k = kind(params, services)
    if k is None:
        continue
    if k in ("main", "master"):
        for name, val in params:
            if name in postdrip_names and name not in ref_main:
                continue
            checked["main"] += 1
            if name not in ref_main:
                problem(where, "main.cf %s = %s is not in contrib/postfix/main.cf.snippet"
                        % (name, val))
            elif ref_main[name] != val and val not in alt_main.get(name, ()):
                problem(where, "main.cf %s = %s, main.cf.snippet has %s"
                        % (name, val, ref_main[name]))
        for key, (cols, opts) in services.items():
            if key not in ref_master:
                continue
            checked["master"] += 1
            rcols, ropts = ref_master[key]
            if cols != rcols:
                problem(where, "master.cf %s %s columns %s, master.cf.snippet has %s (chroot %s vs %s)"
                        % (key[0], key[1], " ".join(cols), " ".join(rcols), cols[2], rcols[2]))
            for o, v in opts.items():
                if o not in ropts:
                    problem(where, "master.cf %s: -o %s=%s is not in master.cf.snippet" % (key[0], o, v))
                elif ropts[o] != v:
                    problem(where, "master.cf %s: -o %s=%s, master.cf.snippet has %s"
                            % (key[0], o, v, ropts[o]))
    else:
        for name, val in params:
            if name in JOINING:
                checked["postdrip"] += 1
                if ref_conf.get(name) != val:
                    problem(where, "postdrip.conf %s = %s, conf/postdrip.conf has %s"
                            % (name, val, ref_conf.get(name)))

# 4. The two sides of the references.
def chrooted(service_type_name):
    for (name, typ), (cols, _) in ref_master.items():
        if name == service_type_name:
            return cols[2] != "n"
    return True     # Postfix's Debian default for smtpd, cleanup, lmtp


def postfix_path(conf_spec, chroot):
    path = conf_spec[len("unix:"):] if conf_spec.startswith("unix:") else None
    if path is None:
        return conf_spec
    if chroot:
        if not path.startswith(QUEUE_DIR + "/"):
            return None
        path = path[len(QUEUE_DIR):]
    return "unix:" + path


inject = ref_conf.get("inject_address", "")
chroot = chrooted(inject)
milter = postfix_path(ref_conf.get("milter_listen", ""), chroot)
if milter is None:
    problem("conf/postdrip.conf", "milter_listen is not under %s while the injection smtpd runs chrooted"
            % QUEUE_DIR)
else:
    for p in ("smtpd_milters", "non_smtpd_milters"):
        if milter + "," not in ref_main.get(p, "") + ",":
            problem("contrib/postfix/main.cf.snippet", "%s does not name %s (milter_listen %s)"
                    % (p, milter, ref_conf.get("milter_listen")))
    for (name, typ), (cols, opts) in ref_master.items():
        if name == inject and opts.get("smtpd_milters") != milter:
            problem("contrib/postfix/master.cf.snippet", "the injection smtpd's milter is %s, not %s"
                    % (opts.get("smtpd_milters"), milter))
if not any(name == inject for name, _ in ref_master):
    problem("contrib/postfix/master.cf.snippet", "no smtpd on inject_address %s" % inject)
lmtp = postfix_path(ref_conf.get("lmtp_listen", ""), True)
bounce = ref_conf.get("bounce_domain", "")
if lmtp is None or "%s=lmtp:%s" % (bounce, lmtp) not in ref_main.get("transport_maps", "").replace(" ", ""):
    problem("contrib/postfix/main.cf.snippet", "transport_maps does not route %s to lmtp:%s (lmtp_listen %s)"
            % (bounce, lmtp, ref_conf.get("lmtp_listen")))
if bounce not in [d.strip() for d in ref_main.get("relay_domains", "").split(",")]:
    problem("contrib/postfix/main.cf.snippet", "relay_domains lacks bounce_domain %s" % bounce)
policy = ref_conf.get("policyd_listen", "")
for p in ("smtpd_recipient_restrictions", "smtpd_end_of_data_restrictions"):
    if "check_policy_service { %s," % policy not in ref_main.get(p, ""):
        problem("contrib/postfix/main.cf.snippet", "%s does not ask %s (policyd_listen)" % (p, policy))
unit = open(os.path.join(src, "contrib/systemd/postdrip-milter.service")).read()
sockdir = os.path.dirname(ref_conf.get("milter_listen", "")[len("unix:"):])
if not re.search(r"^(ExecStartPre=.*install -d .*%s|RuntimeDirectory=%s)\s*$"
                 % (re.escape(sockdir), re.escape(os.path.basename(sockdir))), unit, re.M):
    problem("contrib/systemd/postdrip-milter.service", "does not make %s, milter_listen's directory" % sockdir)
host = re.sub(r"^https?://([^/:]+).*$", r"\1", ref_conf.get("tracker_url", ""))
if not re.search(r"server_name\s+%s;" % re.escape(host), nginx):
    problem("contrib/nginx/postdrip-tracker.conf", "server_name is not %s, tracker_url's host" % host)
upstream = ref_conf.get("tracker_listen", "")[len("inet:"):]
if not re.search(r"server\s+%s;" % re.escape(upstream), nginx):
    problem("contrib/nginx/postdrip-tracker.conf", "the upstream is not %s, tracker_listen" % upstream)

for p in problems:
    print(p)
print("checked: %d main.cf parameters, %d master.cf services, %d postdrip.conf settings; %d disagreements"
      % (checked["main"], checked["master"], checked["postdrip"], len(problems)))
if checked["main"] < 10 or checked["master"] < 2 or checked["postdrip"] < 5:
    print("too little found to compare: has the shape of the documents changed?")
    sys.exit(1)
sys.exit(1 if problems else 0)
