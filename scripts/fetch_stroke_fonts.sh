#!/usr/bin/env bash
# Unpack the two npm packages behind mnist_app/nondigit/stroke_fonts.py under
# data/stroke_fonts/ (git-ignored): Hershey's stroke fonts (MIT) and Make Me a Hanzi's
# stroke medians (Arphic Public License). npm checks each tarball's registry integrity.
set -euo pipefail
cd "$(dirname "$0")/.."
target=data/stroke_fonts
mkdir -p "$target"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for package in hersheytext@2.0.0 hanzi-writer-data@2.0.1; do
    name=${package%@*}
    (cd "$work" && npm pack --silent "$package" >/dev/null)
    rm -rf "${target:?}/$name.partial"
    mkdir -p "$target/$name.partial"
    tar xzf "$work/$name"-*.tgz -C "$target/$name.partial"
    rm -rf "${target:?}/$name"
    mv "$target/$name.partial" "$target/$name"  # whole or not at all
done
echo "stroke fonts in $target"
