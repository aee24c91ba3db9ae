package server

import (
	"crypto/sha256"
	"errors"
	"log/slog"

	"github.com/cairn-db/cairn/internal/transport"
)

// openCertStore loads the TLS certificates if TLS serves clients (tls-port) or the bus
// (tls-cluster); a server that needs them and cannot load them does not start.
func openCertStore(cfg *Config, logger *slog.Logger) (*certStore, error) {
	p := cfg.tlsSnapshot()
	if p.port == 0 && !p.cluster {
		return nil, nil
	}
	return newCertStore(cfg, logger)
}

// busSecurity is how this node's bus tells cluster members from strangers: the cluster secret
// every connection proves, and mutual TLS with certificates of the cluster's CA.
func (s *Server) busSecurity() (transport.Security, error) {
	var sec transport.Security
	if s.cfg.ClusterSecret != "" {
		sec.Secret = []byte(s.cfg.ClusterSecret)
	}
	if s.cfg.tlsSnapshot().cluster {
		if s.certs == nil || s.certs.caPool() == nil {
			return sec, errors.New("tls-cluster needs tls-cert-file, tls-key-file and tls-ca-cert-file")
		}
		sec.ServerTLS, sec.ClientTLS = transport.MutualTLS(s.certs.serverCert, s.certs.clientCert, s.certs.caPool)
	}
	if sec.Secret == nil && sec.ServerTLS == nil {
		s.logger.Warn("the cluster bus accepts any connection: set cluster-secret or tls-cluster")
	}
	return sec, nil
}

// gossipKey is the key gossip encrypts its packets with, derived from the cluster secret.
func (s *Server) gossipKey() []byte {
	if s.cfg.ClusterSecret == "" {
		return nil
	}
	k := sha256.Sum256([]byte("cairn gossip key\x00" + s.cfg.ClusterSecret))
	return k[:]
}
