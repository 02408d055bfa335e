// Package certs makes and serves the fleet's TLS material, in Go and
// offline (no openssl at run time): a private certificate authority, and a
// server certificate it signs for the broker's MQTT over TLS listener and
// the dashboard's HTTPS.
//
// Concepts:
//   - Dir is a directory of PEM files: ca.crt and ca.key (the CA, made once
//     and kept, so robots never need a new ca.crt), server.crt and
//     server.key (renewed whenever the names it must carry change or it
//     nears its end). Keys are 0600; certificates 0644.
//   - Names are what the server certificate carries (its SANs): DNS names
//     and IP addresses. Robots refuse a broker whose certificate does not
//     name the host they dial. Local gives this machine's own names.
//   - Reloader serves a certificate pair from files and reads them again
//     when they change on disk, so that a renewed certificate is served
//     without a restart.
package certs
