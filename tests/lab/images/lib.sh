# Shared by tests/lab/images/{airflow,git-sync,redis}/build.sh (sourced, not run). The house style of
# tests/lab/build_base_image.sh: every image is built FROM the lab's bookworm base image with
# `podman build --pull=never`, tagged with a hash of its recipe (the base image's ID plus every file
# of its build context plus the build script), cached in podman's image store, and checked by the
# build script's last step before it gets `:latest`. A second run with the same recipe prints
# "(cached)" and does nothing else.

yellow_image_prefix=localhost/datasurface-yellow-lab
yellow_images_dir=tests/lab/images

# yellow_base_image_id: build (or reuse) the lab base image and print its image ID.
yellow_base_image_id() {
  tests/lab/build_base_image.sh >/dev/null
  podman image inspect --format '{{.Id}}' "$(tests/lab/build_base_image.sh --print-name)"
}

# yellow_recipe_hash BASE_ID CONTEXT_DIR SCRIPT [EXTRA...]: 12 hex digits over the base image ID,
# every file under CONTEXT_DIR (path and content), the build script and any extra words.
yellow_recipe_hash() {
  local base_id=$1 context=$2 script=$3
  shift 3
  {
    printf '%s\n' "$base_id" "$@"
    (cd "$context" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    sha256sum <"$script"
    sha256sum <"$yellow_images_dir/lib.sh"
  } | sha256sum | cut -c1-12
}

# yellow_image_cached NAME IMAGE REPO: when IMAGE exists, tag it REPO:latest, say so and return 0.
yellow_image_cached() {
  local name=$1 image=$2 repo=$3
  podman image exists "$image" || return 1
  podman tag "$image" "$repo:latest"
  echo "$name image: $image (cached)"
}

# yellow_build_image NAME IMAGE CONTEXT_DIR [podman build options...]: build quietly into IMAGE,
# log in a temporary file shown (tail) only on failure.
yellow_build_image() {
  local name=$1 image=$2 context=$3 log
  shift 3
  log=$(mktemp "${TMPDIR:-/tmp}/yellow-image-build.XXXXXX")
  if ! podman build --pull=never --layers=false "$@" -f "$context/Containerfile" -t "$image" "$context" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -f "$log"
    echo "$name image: build of $image failed" >&2
    return 1
  fi
  rm -f "$log"
}

# yellow_check_failed NAME IMAGE MESSAGE: a last-step check failed: move the image to the tag
# :check-failed (for a look; the next run does not take it for cached) and fail.
yellow_check_failed() {
  echo "$1 image: check failed: $3 (image kept as ${2%:*}:check-failed)" >&2
  podman tag "$2" "${2%:*}:check-failed" >/dev/null 2>&1 || true
  podman untag "$2" "$2" >/dev/null 2>&1 || true
  return 1
}

# yellow_expect NAME IMAGE WANT GOT WHAT: GOT must contain WANT.
yellow_expect() {
  case $4 in
    *"$3"*) ;;
    *) yellow_check_failed "$1" "$2" "$5: expected '$3', got '$4'" ;;
  esac
}
