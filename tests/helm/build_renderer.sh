#!/bin/sh
# Builds tests/helm/render (the helm-less chart renderer) offline, in GOPATH mode, from Debian's
# golang-go, golang-github-masterminds-sprig-dev and golang-github-ghodss-yaml-dev (ECOSYSTEM.md §5.2).
# Debian ships sprig and semver at their pre-/v3 paths, so a private GOPATH entry links .../v3 to them.
#   usage: build_renderer.sh <work dir> <output binary>
set -eu
work=$1
out=$2
src=$(cd "$(dirname "$0")" && pwd)/render/main.go
gocode=/usr/share/gocode/src/github.com
command -v go >/dev/null || { echo "build_renderer: go not found (scripts/install-deps.sh test installs golang-go)" >&2; exit 1; }
for pkg in Masterminds/sprig Masterminds/semver ghodss/yaml; do
  [ -d "$gocode/$pkg" ] || { echo "build_renderer: $gocode/$pkg missing (scripts/install-deps.sh test)" >&2; exit 1; }
done
mkdir -p "$work/gocache"
for pkg in sprig semver; do
  mkdir -p "$work/gopath/src/github.com/Masterminds/$pkg"
  ln -sfn "$gocode/Masterminds/$pkg" "$work/gopath/src/github.com/Masterminds/$pkg/v3"
done
GO111MODULE=off GOPATH="$work/gopath:/usr/share/gocode" GOCACHE="$work/gocache" GOPROXY=off GOFLAGS= \
  go build -o "$out" "$src"
