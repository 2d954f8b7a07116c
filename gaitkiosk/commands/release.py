"""``gaitkiosk release keygen|build``: make the clinic's release key, and signed release bundles.

    gaitkiosk release keygen --out DIR        DIR/gaitkiosk-release.key (secret, 0600) and .pub
    gaitkiosk release build --key FILE        dist/gaitkiosk-X.Y.Z.tar and dist/install.sh

``build`` runs in a checkout: it builds the gaitkiosk wheel (with its compiled
kernels, for the machine it runs on) and the wheels of its dependencies with
pip, and packs them with deploy/ and the public key into a bundle signed by
FILE (gaitkiosk/update/bundle.py). A bundle for a Pi must be built on arm64: on
a Pi, or in the arm64 root that `make test-arm64` makes (docs/install.md,
"Making a release"). ``--wheels DIR`` packs the wheels already in DIR instead.
"""

from __future__ import annotations

HELP = "make a release signing key, or build a signed release bundle (wheels + deploy files + manifest)"


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    k = sub.add_parser("keygen", help="a new release key pair (keep the secret key off the units)")
    k.add_argument("--out", required=True, metavar="DIR", help="folder for gaitkiosk-release.key and .pub")
    b = sub.add_parser("build", help="build the signed release bundle from this checkout")
    b.add_argument("--key", required=True, metavar="FILE", help="the secret release key (gaitkiosk-release.key)")
    b.add_argument("--out", default="dist", metavar="DIR", help="where to write the bundle (default dist/)")
    b.add_argument("--wheels", metavar="DIR", help="pack the wheels in DIR instead of building them")
    b.add_argument("--source", default=".", metavar="DIR", help="the checkout (default: here)")


def run(args, ctx) -> int:
    from pathlib import Path

    from gaitkiosk.errors import UsageError
    from gaitkiosk.update import signing

    if args.action == "keygen":
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        secret, public = out / "gaitkiosk-release.key", out / "gaitkiosk-release.pub"
        if secret.exists() or public.exists():
            raise UsageError(f"{out} already holds a release key: never overwritten (pick another --out)")
        pub = signing.generate(secret, public)
        ctx.emit({"key_id": pub.id_hex, "secret": str(secret), "public": str(public)},
                 f"key {pub.id_hex}: secret {secret} (keep it off the units, backed up), public {public}")
        return 0
    if args.action != "build":
        raise UsageError("release: give an action, keygen or build")
    done = build(Path(args.source), Path(args.key), Path(args.out), Path(args.wheels) if args.wheels else None)
    ctx.emit(done, f"{done['bundle']}: version {done['version']}, {len(done['wheels'])} wheel(s), "
                   f"signed by key {done['key_id']}; installer {done['install_sh']}")
    return 0


def build(source, key, out_dir, wheels_dir=None) -> dict:
    import re
    import shutil
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from gaitkiosk.errors import KioskError
    from gaitkiosk.update import bundle, signing

    source = source.resolve()
    init = source / "gaitkiosk" / "__init__.py"
    if not (source / "pyproject.toml").is_file() or not init.is_file():
        raise KioskError(f"{source} is not a gaitkiosk checkout (run `gaitkiosk release build` in one, or --source)")
    version = re.search(r'^__version__ = "([^"]+)"', init.read_text(), re.M).group(1)
    key_id, sk = signing.load_secret(key)
    pub = signing.PublicKey(key_id, sk.public_key())
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gaitkiosk-release-") as tmp:
        tmp = Path(tmp)
        if wheels_dir is None:
            wheels_dir = tmp / "wheels"
            # The project's wheel and every dependency's, for this machine's platform and Python.
            done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(wheels_dir),
                                   str(source)], capture_output=True, text=True)
            if done.returncode != 0:
                raise KioskError(f"pip wheel failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
        wheels = sorted(Path(wheels_dir).glob("*.whl"))
        if not any(w.name.startswith(f"gaitkiosk-{version}-") for w in wheels):
            raise KioskError(f"no gaitkiosk-{version} wheel in {wheels_dir}")
        files = {f"wheels/{w.name}": w for w in wheels}
        for f in sorted((source / "deploy").iterdir()):
            if f.is_file():
                files[f"deploy/{f.name}"] = f
        pub_file = tmp / f"{pub.id_hex}.pub"
        pub_file.write_text(signing.public_text(pub))
        files[f"deploy/keys/{pub.id_hex}.pub"] = pub_file
        target = out_dir / f"gaitkiosk-{version}.tar"
        bundle.build(target, version, files, key)
    install_sh = out_dir / "install.sh"
    shutil.copy(source / "deploy" / "install.sh", install_sh)
    install_sh.chmod(0o755)
    return {"bundle": str(target), "version": version, "wheels": [w.name for w in wheels], "key_id": pub.id_hex,
            "install_sh": str(install_sh)}
