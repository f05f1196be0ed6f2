# sage-dist-helpers for sagebuild: the sdh_* functions of Sage's build/bin/sage-dist-helpers,
# with the same meanings. Sourced (not executed) by every generated spkg-* script.
# Installs always go to the staging tree $SAGE_DESTDIR$SAGE_INST_LOCAL; sagebuild merges it into
# the prefix only after the whole package succeeded.

sdh_die() {
    local status=$?
    [ "$status" -eq 0 ] && status=1
    {
        echo "************************************************************************"
        echo "$@"
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
