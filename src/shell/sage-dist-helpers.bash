# sage-dist-helpers for sagebuild: the sdh_* functions of Sage's build/bin/sage-dist-helpers,
# with the same meanings. Sourced (not executed) by every generated spkg-* script.
# Installs always go to the staging tree $SAGE_DESTDIR$SAGE_INST_LOCAL; sagebuild merges it into
# the prefix only after the whole package succeeded.

sdh_die() {
    local status=$?
    [ "$status" -eq 0 ] && status=1
    {
        echo "************************************************************************"
        if [ $# -gt 0 ]; then echo "$@"; else cat; fi  # Sage: with no arguments, the message is on stdin
        echo "************************************************************************"
    } >&2
    exit "$status"
}

sdh_check_vars() {
    while [ -n "$1" ]; do
        if [ -z "${!1+set}" ]; then
            sdh_die "Error: $1 must be set"
        fi
        shift
    done
}

sdh_guard() {
    sdh_check_vars SAGE_ROOT SAGE_LOCAL SAGE_INST_LOCAL SAGE_SHARE
}

sdh_configure() {
    echo "Configuring $PKG_NAME"
    # Sage runs configure scripts with bash to avoid non-portable /bin/sh bugs.
    if [ -z "$CONFIG_SHELL" ]; then
        export CONFIG_SHELL="$(command -v bash)"
    fi
    ./configure --prefix="$SAGE_INST_LOCAL" --libdir="$SAGE_INST_LOCAL/lib" \
        --disable-static --disable-maintainer-mode --disable-dependency-tracking "$@"
    if [ $? -ne 0 ]; then
        echo "Retrying configure without --disable-maintainer-mode --disable-dependency-tracking"
        if ! ./configure --prefix="$SAGE_INST_LOCAL" --libdir="$SAGE_INST_LOCAL/lib" --disable-static "$@"; then
            [ -f "$(pwd)/config.log" ] && sdh_die "Error configuring $PKG_NAME; see the file $(pwd)/config.log for details"
            sdh_die "Error configuring $PKG_NAME"
        fi
    fi
}

sdh_make() {
    echo "Building $PKG_NAME"
    ${MAKE:-make} "$@" || sdh_die "Error building $PKG_NAME"
}

sdh_make_check() {
    echo "Testing $PKG_NAME"
    ${MAKE:-make} check "$@" || sdh_die "Error testing $PKG_NAME"
}

sdh_make_install() {
    echo "Installing $PKG_NAME"
    sdh_check_vars SAGE_DESTDIR
    ${MAKE:-make} install DESTDIR="$SAGE_DESTDIR" "$@" || sdh_die "Error installing $PKG_NAME"
}

# sdh_install [-T] SRC... DEST: copy into the staging tree, making DEST first.
sdh_install() {
    local T=""
    if [ "$1" = "-T" ]; then
        T="-T"
        shift
    fi
    if [ $# -lt 2 ]; then
        sdh_die "Error: sdh_install requires at least one source and a destination"
    fi
    local dest="${@: -1}"
    local dest_dir
    if [ -n "$T" ]; then
        dest_dir="$(dirname "$dest")"
    else
        dest_dir="$dest"
    fi
    mkdir -p "${SAGE_DESTDIR}${dest_dir}" || sdh_die "Error creating ${SAGE_DESTDIR}${dest_dir}"
    local src
    while [ $# -gt 1 ]; do
        src="$1"
        shift
        cp -R -p $T "$src" "${SAGE_DESTDIR}${dest}" || sdh_die "Error installing $src to ${SAGE_DESTDIR}${dest}"
    done
}

sdh_cmake() {
    echo "Configuring $PKG_NAME with cmake"
    cmake . -DCMAKE_INSTALL_PREFIX="$SAGE_INST_LOCAL" -DCMAKE_INSTALL_LIBDIR=lib \
        -DCMAKE_VERBOSE_MAKEFILE=ON -DCMAKE_INSTALL_RPATH="$SAGE_INST_LOCAL/lib" \
        -DCMAKE_INSTALL_RPATH_USE_LINK_PATH=TRUE "$@" || sdh_die "Error configuring $PKG_NAME with cmake"
}

# ---- Python packages: build a wheel, store it in the (staged) wheelhouse, install it later ----

# _sdh_pep517 HOOK SRCDIR OUTDIR [KEY=VALUE...]: call a PEP 517/660 hook (sdist, editable) of the
# source's build backend directly, in the venv's python3, without build isolation (offline; the
# backend must be installed). Config settings repeat as pip passes them (a repeated key: a list).
_sdh_pep517() {
    python3 - "$@" <<'_SDH_PEP517_'
import importlib, os, sys
hook, src, out, *settings = sys.argv[1:]
out = os.path.abspath(out)
config = {}
for s in settings:
    k, _, v = s.partition("=")
    if k in config:
        config[k] = (config[k] if isinstance(config[k], list) else [config[k]]) + [v]
    else:
        config[k] = v
os.chdir(src)
backend, backend_path = "setuptools.build_meta:__legacy__", []
if os.path.exists("pyproject.toml"):
    try:
        import tomllib
    except ImportError:
        import tomli as tomllib
    with open("pyproject.toml", "rb") as f:
        system = tomllib.load(f).get("build-system", {})
    backend = system.get("build-backend", backend)
    backend_path = system.get("backend-path", [])
sys.path[:0] = [os.path.abspath(p) for p in backend_path]
module, _, attr = backend.partition(":")
obj = importlib.import_module(module)
for a in filter(None, attr.split(".")):
    obj = getattr(obj, a)
build = getattr(obj, "build_" + hook, None)
if build is None:
    sys.exit(f"the build backend {backend} of {src} has no build_{hook} hook")
os.makedirs(out, exist_ok=True)
print(os.path.join(out, build(out, config or None)))
_SDH_PEP517_
}

# sdh_build_wheel [options] SRCDIR [pip wheel options]: build exactly one ./dist/*.whl from
# source, offline. Sage's options:
#   --no-build-isolation (also build's --no-isolation): build with the venv's packages; sagebuild's
#       default, so that builds are offline and use exactly the packages the recipes installed
#       (Sage 10 defaults to isolation provisioned from the wheelhouse);
#   --build-isolation: an isolated build environment provisioned from the wheelhouse only
#       ($SAGE_SPKG_WHEELS, no index); if that fails, retried without isolation, with Sage's warning;
#   --sdist-then-wheel: build an sdist first (the backend's build_sdist), then the wheel from it
#       (so MANIFEST.in decides what the wheel holds);
#   --no-deps: for sdh_pip_install (sagebuild always installs with --no-deps);
#   -C/--config-settings KEY=VALUE: passed to the build backend;
#   --skip-dependency-check: accepted (python -m build's; pip never checks without isolation).
sdh_build_wheel() {
    echo "Building a wheel for $PKG_NAME"
    mkdir -p dist && rm -f dist/*.whl dist/*.tar.gz
    local isolation=no sdist=no src=""
    local settings=() extra=()
    install_options=""
    # Options may also follow the source folder (`sdh_pip_install . -Csetup-args=...`), as
    # python -m build accepts them anywhere.
    while [ $# -gt 0 ]; do
        case "$1" in
            --build-isolation) isolation=yes ;;
            --no-build-isolation|--no-isolation) isolation=no ;;
            --sdist-then-wheel) sdist=yes ;;
            --no-deps) install_options="$install_options $1" ;;
            --skip-dependency-check) ;;
            -C|--config-settings|--config-setting)
                [ $# -ge 2 ] || sdh_die "Error: $1 needs a KEY=VALUE argument"
                shift; settings+=("$1") ;;
            --config-settings=*|--config-setting=*) settings+=("${1#*=}") ;;
            -C*) settings+=("${1#-C}") ;;
            -*) extra+=("$1") ;; # other pip wheel options
            *) [ -z "$src" ] || sdh_die "Error: sdh_build_wheel takes one source folder, got $src and $1"
               src="$1" ;;
        esac
        shift
    done
    [ -n "$src" ] || src=.
    set -- "${extra[@]}"
    if [ "$sdist" = yes ]; then
        local out sdist_file
        out="$(mktemp -p "${SAGE_PKG_DIR:-.}")"  # in the build dir, never /tmp
        _sdh_pep517 sdist "$src" dist "${settings[@]}" > "$out"
        local status=$?
        cat "$out"
        sdist_file="$(tail -n 1 "$out")"
        rm -f "$out"
        [ $status -eq 0 ] && [ -f "$sdist_file" ] || sdh_die "Error building an sdist for $PKG_NAME"
        echo "Built the sdist $sdist_file; building the wheel from it"
        src="$sdist_file"
    fi
    local cs=()
    local s
    for s in "${settings[@]}"; do cs+=("--config-settings=$s"); done
    local pip_wheel=(python3 -m pip wheel --verbose --disable-pip-version-check --no-deps --no-index --wheel-dir=dist "${cs[@]}")
    if [ "$isolation" = yes ]; then
        if ! PIP_NO_INDEX=1 "${pip_wheel[@]}" --find-links="$SAGE_SPKG_WHEELS" "$@" "$src"; then
            echo >&2 "Warning: building with build isolation (build dependencies from $SAGE_SPKG_WHEELS) failed."
            echo >&2 "Retrying with --no-build-isolation."
            rm -f dist/*.whl
            PIP_NO_INDEX=1 "${pip_wheel[@]}" --no-binary :all: --no-build-isolation "$@" "$src" \
                || sdh_die "Error building a wheel for $PKG_NAME"
            echo >&2 "Warning: Wheel building needed to use \"--no-build-isolation\" to succeed. This means that a dependencies file in build/pkgs/ needs to be updated."
        fi
    else
        PIP_NO_INDEX=1 "${pip_wheel[@]}" --no-binary :all: --no-build-isolation "$@" "$src" \
            || sdh_die "Error building a wheel for $PKG_NAME"
    fi
    rm -f dist/*.tar.gz
    local n
    n=$(ls dist/*.whl 2>/dev/null | wc -l)
    [ "$n" -eq 1 ] || sdh_die "Error: building $PKG_NAME made $n wheels in dist/, expected exactly one"
}

# sdh_setup_bdist_wheel [setup.py bdist_wheel options]: Sage's older helper, building the wheel in
# ./dist with `setup.py bdist_wheel` (for sources whose setup.py pip cannot drive).
sdh_setup_bdist_wheel() {
    echo "Building a wheel for $PKG_NAME with setup.py bdist_wheel"
    mkdir -p dist && rm -f dist/*.whl
    python3 setup.py --no-user-cfg bdist_wheel "$@" || sdh_die "Error building a wheel for $PKG_NAME"
}

sdh_build_and_store_wheel() {
    sdh_build_wheel "$@"
    sdh_store_wheel .
}

# sdh_pip_install [options] SRCDIR: build the wheel, store it, and have sagebuild pip-install it
# from the wheelhouse once the package's files are merged into the prefix.
sdh_pip_install() {
    echo "Installing $PKG_NAME"
    sdh_build_wheel "$@"
    sdh_store_and_pip_install_wheel $install_options .
}

# sdh_pip_editable_install SRCDIR [--config-settings=KEY=VALUE...]: Sage installs the source in
# place with `pip install --editable --no-deps --no-index --no-build-isolation`. sagebuild stages
# every install, so pip must not write into the venv from the recipe: instead the backend builds
# an *editable wheel* (PEP 660: it holds only a .pth/finder pointing at the source) and sagebuild
# stores and installs that wheel like any other, after the merge, under the pip lock; the
# manifest, -clean, rollback and `pip uninstall` all work as for a normal wheel. The editable
# wheel must point at the sources that stay, not at the build directory's copy of an in-tree src/
# (it is deleted after the build): that copy is mapped back to the recipe's src/
# ($SAGEBUILD_RECIPE_SRC), as Sage's build directory links src/ to the recipe's. The backend
# writes its metadata (*.egg-info) there, as `pip install -e` does.
sdh_pip_editable_install() {
    echo "Installing $PKG_NAME (editable mode)"
    local src="" settings=()
    while [ $# -gt 0 ]; do
        case "$1" in
            -C|--config-settings|--config-setting) shift; settings+=("$1") ;;
            --config-settings=*|--config-setting=*) settings+=("${1#*=}") ;;
            -C*) settings+=("${1#-C}") ;;
            -e|--editable|--no-deps|--no-index|--no-build-isolation|--isolated|--verbose|-v) ;;
            -*) sdh_die "Error: sdh_pip_editable_install: unsupported option $1" ;;
            *) [ -z "$src" ] || sdh_die "Error: sdh_pip_editable_install takes one source directory, got $src and $1"
               src="$1" ;;
        esac
        shift
    done
    [ -n "$src" ] || sdh_die "Error: sdh_pip_editable_install needs a source directory"
    src="$(cd "$src" && pwd -P)" || sdh_die "Error: no source directory $src"
    local copy
    copy="$(cd "$SAGE_PKG_DIR/src" 2>/dev/null && pwd -P)"
    if [ -n "$copy" ] && [ -n "$SAGEBUILD_RECIPE_SRC" ]; then
        case "$src/" in
            "$copy/"*) src="$SAGEBUILD_RECIPE_SRC${src#"$copy"}" ;;
        esac
    fi
    mkdir -p dist && rm -f dist/*.whl
    _sdh_pep517 editable "$src" dist "${settings[@]}" || sdh_die "Error installing $PKG_NAME (building an editable wheel of $src)"
    sdh_store_and_pip_install_wheel .
}

# sdh_pip_uninstall [pip uninstall args]: pip-uninstall from the venv under the exclusive pip lock
# (Sage's sage-pip-uninstall); a failure is only a warning. Used by the spkg-piprm hooks.
sdh_pip_uninstall() {
    mkdir -p "$SAGE_VENV/var/lock"
    flock -x "$SAGE_VENV/var/lock/pip3.lock" python3 -m pip uninstall --isolated --disable-pip-version-check --yes --no-input "$@"
    local status=$?
    if [ $status -ne 0 ]; then
        echo "Warning: pip exited with status $status" >&2
    fi
    return 0
}

# sdh_preload_lib EXECUTABLE SONAME (Linux only): if EXECUTABLE (a program or a library) loads a
# library starting with SONAME, append that library to LD_PRELOAD (Sage's issue 24885).
sdh_preload_lib() {
    local executable="$1"
    local soname="$2"
    if [ "$UNAME" != "Linux" ]; then
        return 0
    fi
    local ldlibs
    ldlibs="$(ldd "$(command -v "$executable" || echo "$executable")")" || sdh_die "Could not get shared library dependencies for $executable"
    local lib
    lib=$(echo "$ldlibs" | sed -n 's/\s*'"$soname"'.* => \(.\+\) .*/\1/p')
    if [ -n "$lib" ]; then
        if [ -n "$LD_PRELOAD" ]; then
            export LD_PRELOAD="$LD_PRELOAD:$lib"
        else
            export LD_PRELOAD="$lib"
        fi
    fi
}

# sdh_store_wheel DIR: move the one DIR/dist/*.whl into the staged wheelhouse.
sdh_store_wheel() {
    local dir="${1:-.}"
    sdh_check_vars SAGE_DESTDIR SAGE_SPKG_WHEELS
    local wheels=("$dir"/dist/*.whl)
    if [ ${#wheels[@]} -ne 1 ] || [ ! -f "${wheels[0]}" ]; then
        sdh_die "Error: sdh_store_wheel needs exactly one wheel in $dir/dist/, found: ${wheels[*]}"
    fi
    local wheel="${wheels[0]}"
    local name
    name="$(basename "$wheel")"
    mkdir -p "$SAGE_DESTDIR$SAGE_SPKG_WHEELS" || sdh_die "Error creating the staged wheelhouse"
    mv "$wheel" "$SAGE_DESTDIR$SAGE_SPKG_WHEELS/" || sdh_die "Error storing $name"
    mkdir -p "$SAGE_DESTDIR$SAGE_SPKG_SCRIPTS/$PKG_BASE"
    echo "${name%%-*} @ file://$SAGE_SPKG_WHEELS/$name" >> "$SAGE_DESTDIR$SAGE_SPKG_SCRIPTS/$PKG_BASE/spkg-requirements.txt"
    echo "Stored $name in the wheelhouse"
    SDH_STORED_WHEEL="$name"
}

# sdh_store_and_pip_install_wheel [pip options] DIR: store the wheel; sagebuild installs it with
# `pip install --no-index --find-links $SAGE_SPKG_WHEELS <dist>==<version>` under the shared pip
# lock after the merge (Sage defers the same way through spkg-pipinst).
sdh_store_and_pip_install_wheel() {
    local dir=.
    while [ $# -gt 0 ]; do
        case "$1" in
            -*) ;; # pip options: sagebuild always installs with --no-deps --no-index
            *) dir="$1" ;;
        esac
        shift
    done
    sdh_store_wheel "$dir"
    # "<wheel> dependency" for what pip installs only because a requirement needs it.
    echo "$SDH_STORED_WHEEL${SDH_PIPINST_ROLE:+ $SDH_PIPINST_ROLE}" >> "$SAGE_PKG_DIR/.sagebuild-pipinst"
}

# For pip-kind packages (requirements.txt, any number of lines): as Sage's
# `pip install -r requirements.txt`, with their dependencies. Wheels for every requirement and
# what it needs come from the configured package index (pip's own configuration decides where);
# the venv's pip then decides, as that install would, which of them the venv still lacks: only
# those are stored and pip-installed for this package (dependencies already installed by another
# package stay theirs).
sdh_pip_install_requirements() {
    local req="$SAGE_RECIPE_DIR/requirements.txt"
    rm -rf dist && mkdir -p dist
    # One Python process, the venv's, fetches and decides (pip imported once, run three times in
    # it; as Sage, whose venv's pip runs `pip install -r`): it fetches the wheels with the user's pip
    # configuration, then asks pip as the install would go (to find conflicts with what other
    # packages installed), and ignoring what is installed (the whole closure, whose wheels this
    # package stores unless another package already installed that distribution). While the venv
    # has no pip yet (building pip itself), the base interpreter's pip fetches, and pip is then
    # imported from its fetched wheel. Exit 3: the fetch failed.
    local needed status=0
    needed=$("$PYTHON" - "$req" <<'PYEOF'
import glob, json, os, re, subprocess, sys, urllib.parse
from importlib import metadata
venv_path = list(sys.path)  # what is installed: never the pip wheel put on the path below
req = sys.argv[1]
fetch = ["wheel", "--disable-pip-version-check", "--wheel-dir=dist", "-r", req]
def to_stderr(run):
    # stdout is what the shell reads: pip's output, and its subprocesses', go to stderr.
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        return run()
    except SystemExit as e:
        return e.code
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
try:
    from pip._internal.cli.main import main as pip_main
except ImportError:
    if to_stderr(lambda: subprocess.call([os.environ["SAGEBUILD_PYTHON"], "-m", "pip"] + fetch)):
        sys.exit(3)
    wheels = glob.glob("dist/pip-*.whl")
    if not wheels:
        sys.exit("the venv has no pip; build the pip package first")
    sys.path.insert(0, wheels[0])
    from pip._internal.cli.main import main as pip_main
else:
    if to_stderr(lambda: pip_main(fetch)):
        sys.exit(3)
dry = ["install", "--isolated", "--disable-pip-version-check", "--no-input", "--dry-run", "--quiet", "--no-index", "--find-links", "dist", "-r", req]
for extra, report in (([], "dist/.report.json"), (["--ignore-installed"], "dist/.closure.json")):
    status = to_stderr(lambda: pip_main(dry + extra + ["--report", report]))
    if status:
        sys.exit(f"pip cannot install {req} into the venv from the fetched wheels (exit {status})")
canon = lambda n: re.sub(r"[-_.]+", "-", n).lower()
# Distributions this package installed before (an upgrade or rebuild takes them over again).
own = {canon(n) for n in os.environ.get("SAGEBUILD_OWN_DISTS", "").split()}
def installed(name):
    d = next(iter(metadata.distributions(name=name, path=venv_path)), None)
    return d.version if d else None
for item in json.load(open("dist/.report.json"))["install"]:
    name, version = item["metadata"]["name"], item["metadata"]["version"]
    have = installed(name)
    if have is not None and canon(name) not in own:
        sys.exit(f"requirements.txt needs {name} {version}, but {name} {have} is installed in the venv by another package; align the versions")
for item in json.load(open("dist/.closure.json"))["install"]:
    name = item["metadata"]["name"]
    if installed(name) is not None and canon(name) not in own:
        continue  # another package's, and it satisfies the requirement
    wheel = os.path.basename(urllib.parse.unquote(urllib.parse.urlparse(item["download_info"]["url"]).path))
    print(wheel, "" if item.get("requested") else "dependency")
PYEOF
) || status=$?
    [ "$status" != 3 ] || sdh_die "Error getting wheels for $PKG_NAME (requirements.txt and their dependencies) from the package index"
    [ "$status" = 0 ] || sdh_die "Error resolving the requirements of $PKG_BASE"
    [ -n "$needed" ] || echo "All requirements of $PKG_BASE are already installed in the venv"
    local w role
    while read -r w role; do
        [ -n "$w" ] || continue
        rm -rf dist/.one && mkdir -p dist/.one/dist && mv "dist/$w" dist/.one/dist/ || sdh_die "Error: pip chose $w, which is not among the fetched wheels"
        SDH_PIPINST_ROLE="$role" sdh_store_and_pip_install_wheel dist/.one
    done <<< "$needed"
}
