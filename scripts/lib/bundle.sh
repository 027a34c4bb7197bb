# Shared by scripts/package-lambda.sh and scripts/build-image.sh (sourced, not run).
#
# bundle_libraries BINARY DEST_DIR
#   Copies every shared library the dynamic loader resolves for BINARY into DEST_DIR: libc and
#   libstdc++ included, and the loader itself (so the result runs on a machine with an older
#   glibc, or with none at all, as in a `FROM scratch` image). Also the libraries BINARY loads on
#   first use with dlopen (libduckdb.so, libcurl), which `ldd` cannot see: `BINARY libraries`
#   prints them, and each is bundled with what it needs in turn. Symlinks are resolved: each file
#   is stored under the name the binary asks for. On success it sets
#     BUNDLED_LOADER       the loader's file name (ld-linux-x86-64.so.2 on x86-64)
#     BUNDLED_LOADER_PATH  the absolute path the binary names as its interpreter (PT_INTERP)
#     BUNDLED_LIBRARIES    how many files were copied, the loader included
#   and returns 0; otherwise it prints why on stderr and returns 1.
bundle_libraries() {
  local binary=$1 dest=$2 line path name object lazy
  BUNDLED_LOADER="" BUNDLED_LOADER_PATH="" BUNDLED_LIBRARIES=0
  mkdir -p "$dest" || return 1
  lazy=$("$binary" libraries) || { echo "bundle: $binary cannot load the libraries it loads on first use" >&2; return 1; }
  # A lazily loaded library is stored under the name dlopen asks for (its path's file name).
  for object in "$binary" $lazy; do
    if [ "$object" != "$binary" ]; then
      name=$(basename "$object")
      bundle_copy "$object" "$dest" "$name" || return 1
    fi
    # ldd prints `name => /path (addr)` for a library and `/path/ld-linux… (addr)` for the loader;
    # linux-vdso is provided by the kernel, not a file.
    local listing
    listing=$(ldd "$object") || { echo "bundle: ldd failed on $object (is it a dynamic object?)" >&2; return 1; }
    while read -r line; do
      case "$line" in
        *"not found"*) echo "bundle: a library of $object is missing: $line" >&2; return 1 ;;
        *"=>"*/*) path=$(echo "$line" | sed -E 's/.*=> ([^ ]+) .*/\1/'); name=$(echo "$line" | awk '{print $1}') ;;
        /*) path=$(echo "$line" | awk '{print $1}'); name=$(basename "$path")
            BUNDLED_LOADER=$name BUNDLED_LOADER_PATH=$path ;;
        *) continue ;;
      esac
      bundle_copy "$path" "$dest" "$name" || return 1
    done <<< "$listing"
  done
  if [ -z "$BUNDLED_LOADER" ]; then
    echo "bundle: ldd named no dynamic loader for $binary (a static binary needs no bundled libraries)" >&2
    return 1
  fi
  chmod 755 "$dest/$BUNDLED_LOADER"
}

# bundle_copy PATH DEST_DIR NAME: copies PATH to DEST_DIR/NAME once (a library several objects
# need is copied for the first), and counts it in BUNDLED_LIBRARIES.
bundle_copy() {
  local path=$1 dest=$2 name=$3
  [ -e "$dest/$name" ] && return 0
  cp -L "$path" "$dest/$name" || return 1
  # A symbol table is for debuggers, not the loader: a library that ships one (libduckdb.so's
  # .symtab and .strtab are ~10 MB) is bundled without it. The loader is left as it is.
  if [ "$name" != "$BUNDLED_LOADER" ] && command -v strip >/dev/null 2>&1 && command -v readelf >/dev/null 2>&1 &&
    readelf -S "$dest/$name" 2>/dev/null | grep -q '\.symtab'; then
    chmod u+w "$dest/$name" && strip --strip-unneeded "$dest/$name" || return 1
  fi
  BUNDLED_LIBRARIES=$((BUNDLED_LIBRARIES + 1))
}
