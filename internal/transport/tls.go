package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// MutualTLS returns the TLS configurations of a bus whose members all hold certificates signed
// by the authorities roots returns (tls-cluster): the listener presents cert's certificate,
// the dialer clientCert's, and each requires the other's to chain to roots. Peers are dialed by address, and a member's
// certificate need not name it, so, as Redis Cluster does, names are not checked: membership
// is having a certificate from the cluster's CA. The functions are called on every handshake,
// so a certificate or CA replaced on disk takes effect without a restart.
func MutualTLS(cert, clientCert func() (*tls.Certificate, error), roots func() *x509.CertPool) (server, client *tls.Config) {
	verify := func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("no certificate")
		}
		certs := make([]*x509.Certificate, len(raw))
		for i, der := range raw {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return err
			}
			certs[i] = c
		}
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots(), Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		return err
	}
	server = &tls.Config{
		MinVersion:            tls.VersionTLS12,
		GetCertificate:        func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert() },
		ClientAuth:            tls.RequireAnyClientCert, // verified below, against the current roots
		VerifyPeerCertificate: verify,
	}
	client = &tls.Config{
		MinVersion:           tls.VersionTLS12,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return clientCert() },
		// The chain is verified below against the cluster's CA; names are not (see above).
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: verify,
	}
	return server, client
}
