"""`gaitkiosk users add NAME --role ROLE | list | deactivate NAME | activate NAME | pin NAME`: staff who log in at the kiosk.

A PIN is typed twice and never echoed (getpass on a terminal). When stdin is not a
terminal (a provisioning script, a test) the two PINs are its first two lines. The
store keeps only a salted scrypt hash (store/users.py). Every change goes in the
audit log with the user it was about and the operating-system account that made it.
"""

from __future__ import annotations

HELP = "add, list and deactivate the therapists and technicians who log in at the kiosk (docs/therapist.md)"


def add_arguments(parser) -> None:
    from gaitkiosk.commands.sessions import common_options
    from store.roles import ROLES

    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    parser.set_defaults(action="list")
    add = sub.add_parser("add", help="add a staff user; asks for the PIN (4 to 8 digits) twice, without echo")
    common_options(add)
    add.add_argument("name", metavar="NAME", help="the name shown on the kiosk's staff login screen")
    add.add_argument("--role", required=True, choices=ROLES, help="therapist or technician")
    ls = sub.add_parser("list", help="every staff user: name, role, active")
    common_options(ls)
    for action, text in (("deactivate", "stop a user logging in (history and audit entries are kept)"),
                         ("activate", "let a deactivated user log in again"),
                         ("pin", "set a new PIN for a user (asked twice, without echo)")):
        p = sub.add_parser(action, help=text)
        common_options(p)
        p.add_argument("name", metavar="NAME")


def run(args, ctx) -> int:
    from store import open_store
    from store.api import store_settings

    with open_store(ctx.data_dir, settings=store_settings(ctx.config), create=args.action == "add") as st:
        if args.action == "add":
            return _add(st, args, ctx)
        if args.action in ("deactivate", "activate"):
            return _set_active(st, args, ctx, args.action == "activate")
        if args.action == "pin":
            return _pin(st, args, ctx)
        return _list(st, ctx)


def read_pin(stdin=None) -> str:
    """The new PIN, typed twice: getpass on a terminal, else the first two lines of stdin."""
    import getpass
    import sys

    from gaitkiosk.errors import UsageError
    from store.users import check_pin

    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("PIN (4 to 8 digits): ")
        check_pin(first)
        second = getpass.getpass("PIN again: ")
    else:
        first, second = stdin.readline().strip(), stdin.readline().strip()
        if not first or not second:
            raise UsageError("give the PIN twice, one line each, on stdin (or run from a terminal to be asked)")
        check_pin(first)
    if first != second:
        raise UsageError("the two PINs differ; nothing was changed")
    return first


def _audit(st, action: str, user, **details) -> None:
    import getpass

    st.audit.log(action, subject=user.id,
                 details={"name": user.name, "role": user.role, **details,
                          "by": f"gaitkiosk users {action.split('.')[1]}", "os_user": getpass.getuser()})


def _user(st, name: str):
    from store.errors import NotFoundError

    try:
        return st.users.by_name(name)
    except NotFoundError:
        raise NotFoundError(f"no staff user named {name!r}; `gaitkiosk users list` shows them") from None


def _add(st, args, ctx) -> int:
    from gaitkiosk.errors import UsageError
    from store.errors import NotFoundError
    from store.users import check_name

    check_name(args.name)  # refused before the PIN is asked for
    try:
        st.users.by_name(args.name)
    except NotFoundError:
        pass
    else:
        raise UsageError(f"a staff user named {args.name!r} already exists; "
                         f"`gaitkiosk users pin {args.name}` sets a new PIN")
    user = st.users.add(args.name, args.role, read_pin())
    _audit(st, "user.add", user)
    ctx.emit({"id": user.id, "name": user.name, "role": user.role},
             f"added {user.role} {user.name}; they log in with the Staff button on the kiosk's start screen")
    return 0


def _set_active(st, args, ctx, active: bool) -> int:
    user = _user(st, args.name)
    word = "active" if active else "deactivated"
    if user.active == active:
        ctx.emit({"id": user.id, "name": user.name, "active": active, "changed": False},
                 f"{user.name} is already {word}")
        return 0
    st.users.set_active(user.id, active)
    _audit(st, "user.activate" if active else "user.deactivate", user)
    ctx.emit({"id": user.id, "name": user.name, "active": active, "changed": True}, f"{user.name} is now {word}")
    return 0


def _pin(st, args, ctx) -> int:
    user = _user(st, args.name)
    st.users.set_pin(user.id, read_pin())
    _audit(st, "user.pin", user)
    ctx.emit({"id": user.id, "name": user.name}, f"new PIN set for {user.name}")
    return 0


def _list(st, ctx) -> int:
    users = st.users.list()
    width = max([4, *(len(u.name) for u in users)])
    lines = [f"{'name':<{width}}  {'role':<10}  {'since':<10}  state"]
    lines += [f"{u.name:<{width}}  {u.role:<10}  {u.created_at[:10]:<10}  {'active' if u.active else 'deactivated'}"
              for u in users]
    lines.append(f"{len(users)} staff user(s)" + ("" if users else "; add one: gaitkiosk users add NAME --role therapist"))
    ctx.emit({"users": [{"id": u.id, "name": u.name, "role": u.role, "active": u.active, "created_at": u.created_at}
                        for u in users]}, "\n".join(lines))
    return 0
