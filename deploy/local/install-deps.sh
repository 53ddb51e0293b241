#!/usr/bin/env bash
# Installs the system packages the embedded stack needs, only when they are missing.
# PostgreSQL server from Debian; everything else comes from PyPI into .venv.
# Legal documents (services/notify/documents) render to PDF with WeasyPrint, which lays text out with
# Debian's Pango and subsets fonts with HarfBuzz; Chinese needs a CJK font (Noto CJK) or it prints as
# empty boxes.
# With --test also Debian's chromium, which the console's browser test drives, and poppler-utils
# (pdftotext, pdffonts, pdftoppm), which the document tests read the PDFs with, and Debian's
# prometheus package for promtool, which checks and unit-tests the alert rules.
set -euo pipefail

have_pg() {
  command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

have_lib() {
  # grep reads to the end (no -q): with pipefail an early exit would fail the pipeline on SIGPIPE
  /sbin/ldconfig -p 2>/dev/null | grep "$1" >/dev/null
}

have_cjk_font() {
  command -v fc-list >/dev/null 2>&1 && fc-list 2>/dev/null | grep "Noto Serif CJK SC" >/dev/null
}

PY="${PYTHON_BOOT:-$(command -v python3.11 || command -v python3)}"
need=()
have_pg || need+=(postgresql)
# Debian's own Python ships venv/ensurepip separately.
"$PY" -c "import ensurepip, venv" >/dev/null 2>&1 || need+=("python3-venv")
have_lib libpango-1.0.so.0 || need+=(libpango-1.0-0)
have_lib libpangoft2-1.0.so.0 || need+=(libpangoft2-1.0-0)
have_lib libharfbuzz-subset.so.0 || need+=(libharfbuzz-subset0)
have_lib libgomp.so.1 || need+=(libgomp1)  # LightGBM, the risk service's targeting model
have_cjk_font || need+=(fonts-noto-cjk fontconfig)
if [ "${1:-}" = "--test" ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
fi
if [ "${1:-}" = "--test" ] && ! command -v promtool >/dev/null 2>&1; then
  need+=(prometheus)
fi
if [ "${#need[@]}" -eq 0 ]; then
  exit 0
fi
echo "[deps] installing from Debian: ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "[deps] need root (or sudo) to apt-get install ${need[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${need[@]}" >/dev/null
# Debian starts a cluster on 5432 by default; the platform runs its own cluster and does not need it.
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters -h 2>/dev/null | awk '{print $1, $2}' | while read -r ver name; do
    $SUDO pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true
  done
fi
# Only promtool is wanted from the prometheus package: a Prometheus server it may have started is not.
if [[ " ${need[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
fi
have_pg || { echo "[deps] PostgreSQL install failed" >&2; exit 1; }
have_cjk_font || { echo "[deps] the Noto CJK font is not visible to fontconfig after the install" >&2; exit 1; }
echo "[deps] installed ${need[*]}"
