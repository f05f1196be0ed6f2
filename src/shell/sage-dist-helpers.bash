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
        ./configure --prefix="$SAGE_INST_LOCAL" --libdir="$SAGE_INST_LOCAL/lib" --disable-static "$@" \
            || sdh_die "Error configuring $PKG_NAME"
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

# sdh_build_wheel [pip wheel options] SRCDIR: build ./dist/<one>.whl from source, offline, with
# the build dependencies already installed in the venv (no build isolation).
sdh_build_wheel() {
    echo "Building a wheel for $PKG_NAME"
    mkdir -p dist && rm -f dist/*.whl
    local isolation=--no-build-isolation
    local args=()
    while [ $# -gt 0 ]; do
        case "$1" in
            --build-isolation) isolation="" ;;
            --no-build-isolation) isolation=--no-build-isolation ;;
            --no-deps) ;;
            *) args+=("$1") ;;
        esac
        shift
    done
    [ ${#args[@]} -gt 0 ] || args=(.)
    PIP_NO_INDEX=1 python3 -m pip wheel --verbose --disable-pip-version-check --no-binary :all: \
        $isolation --no-deps --no-index --wheel-dir=dist "${args[@]}" \
        || sdh_die "Error building a wheel for $PKG_NAME"
    local n
    n=$(ls dist/*.whl 2>/dev/null | wc -l)
    [ "$n" -eq 1 ] || sdh_die "Error: building $PKG_NAME made $n wheels in dist/, expected exactly one"
}

sdh_build_and_store_wheel() {
    sdh_build_wheel "$@"
    sdh_store_wheel .
}

# sdh_pip_install [options] SRCDIR: build the wheel, store it, and have sagebuild pip-install it
# from the wheelhouse once the package's files are merged into the prefix.
sdh_pip_install() {
    sdh_build_wheel "$@"
    sdh_store_and_pip_install_wheel .
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
    "$SAGEBUILD_PYTHON" -m pip wheel --disable-pip-version-check --wheel-dir=dist -r "$req" \
        || sdh_die "Error getting wheels for $PKG_NAME (requirements.txt and their dependencies) from the package index"
    local pip=("$PYTHON" -m pip)
    if ! "$PYTHON" -c 'import pip' 2>/dev/null; then
        # Building pip itself: the venv has none yet; run pip from its fetched wheel.
        local pipwheel=(dist/pip-*.whl)
        [ -f "${pipwheel[0]}" ] || sdh_die "Error: the venv has no pip; build the pip package first"
        pip=("$PYTHON" "${pipwheel[0]}/pip")
    fi
    # Twice: as the install would go (to find conflicts with what other packages installed), and
    # ignoring what is installed (the whole closure, whose wheels this package stores unless
    # another package already installed that distribution).
    local dry=("${pip[@]}" install --isolated --disable-pip-version-check --no-input --dry-run --quiet --no-index --find-links dist -r "$req")
    "${dry[@]}" --report dist/.report.json && "${dry[@]}" --ignore-installed --report dist/.closure.json \
        || sdh_die "Error: pip cannot install requirements.txt of $PKG_BASE into the venv from the fetched wheels"
    local needed
    needed=$("$PYTHON" - dist/.report.json dist/.closure.json <<'PYEOF'
import json, os, re, sys, urllib.parse
from importlib import metadata
canon = lambda n: re.sub(r"[-_.]+", "-", n).lower()
# Distributions this package installed before (an upgrade or rebuild takes them over again).
own = {canon(n) for n in os.environ.get("SAGEBUILD_OWN_DISTS", "").split()}
def installed(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
for item in json.load(open(sys.argv[1]))["install"]:
    name, version = item["metadata"]["name"], item["metadata"]["version"]
    have = installed(name)
    if have is not None and canon(name) not in own:
        sys.exit(f"requirements.txt needs {name} {version}, but {name} {have} is installed in the venv by another package; align the versions")
for item in json.load(open(sys.argv[2]))["install"]:
    name = item["metadata"]["name"]
    if installed(name) is not None and canon(name) not in own:
        continue  # another package's, and it satisfies the requirement
    wheel = os.path.basename(urllib.parse.unquote(urllib.parse.urlparse(item["download_info"]["url"]).path))
    print(wheel, "" if item.get("requested") else "dependency")
PYEOF
) || sdh_die "Error resolving the requirements of $PKG_BASE"
    [ -n "$needed" ] || echo "All requirements of $PKG_BASE are already installed in the venv"
    local w role
    while read -r w role; do
        [ -n "$w" ] || continue
        rm -rf dist/.one && mkdir -p dist/.one/dist && mv "dist/$w" dist/.one/dist/ || sdh_die "Error: pip chose $w, which is not among the fetched wheels"
        SDH_PIPINST_ROLE="$role" sdh_store_and_pip_install_wheel dist/.one
    done <<< "$needed"
}
