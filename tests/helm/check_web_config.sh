#!/bin/sh
# helm.*.web_config: the web config the chart generated (or the docs' example for web.configSecret), left
# by check_chart.mjs in DIR/web-config.yml, checked by promtool check web-config, exporter-toolkit's own
# validator, which also loads the certificate files it names. The files are the ones the pod would mount
# beside it (tls.crt, tls.key, ca.crt), made here with openssl: a CA and a server certificate it signs.
# A control first: with a key that does not load, promtool must refuse the file, so a pass means the
# certificate files were really read.
set -eu
dir=$1
cfg=$dir/web-config.yml
test -s "$cfg" || { echo "no web config at $cfg"; exit 1; }
cd "$dir"
rm -f ca.key ca.crt tls.key tls.csr tls.crt ext.cnf
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=helm-test-ca \
  -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=demo-anomaly-exporter \
  -keyout tls.key -out tls.csr 2>/dev/null
printf 'subjectAltName=DNS:demo-anomaly-exporter.monitoring.svc\n' > ext.cnf
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out tls.crt 2>/dev/null
if grep -q '^tls_server_config:' "$cfg"; then
  mv tls.key tls.key.good
  echo "not a key" > tls.key
  if promtool check web-config "$cfg" >/dev/null 2>&1; then
    echo "control failed: promtool accepted $cfg with an unreadable key"; exit 1
  fi
  mv tls.key.good tls.key
fi
promtool check web-config "$cfg"
