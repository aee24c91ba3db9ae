package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// tlsParams are the tls-* parameters as last set (config file, flags or CONFIG SET).
type tlsParams struct {
	port                          int
	certFile, keyFile             string
	clientCertFile, clientKeyFile string
	caFile                        string
	authClients                   string // yes, no, optional
	protocols, ciphersuites       string
	ciphers                       string
	cluster                       bool
}

func (c *Config) setTLS(f func(p *tlsParams)) {
	c.tlsMu.Lock()
	f(&c.tls)
	c.tlsMu.Unlock()
}

// TLSPort is the port TLS clients connect to (0: none).
func (c *Config) TLSPort() int {
	c.tlsMu.Lock()
	defer c.tlsMu.Unlock()
	return c.tls.port
}

func (c *Config) tlsSnapshot() tlsParams {
	c.tlsMu.Lock()
	defer c.tlsMu.Unlock()
	return c.tls
}

// certStore holds the certificates and CA the tls-* parameters name, loaded, and loads them
// again when a parameter names other files (CONFIG SET) or a file changes on disk: a handshake
// looks at the files at most once a second, so a renewed certificate is used without a restart.
// A file that fails to load keeps the last good one in use, and the failure is logged.
type certStore struct {
	cfg    *Config
	logger *slog.Logger

	mu        sync.Mutex
	checked   time.Time
	stamp     string // the files' names, sizes and modification times when last loaded
	cert      *tls.Certificate
	client    *tls.Certificate // tls-client-cert-file, or cert
	roots     *x509.CertPool
	lastError error
}

func newCertStore(cfg *Config, logger *slog.Logger) (*certStore, error) {
	s := &certStore{cfg: cfg, logger: logger}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(true); err != nil {
		return nil, err
	}
	return s, nil
}

func fileStamp(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		if st, err := os.Stat(n); err == nil {
			fmt.Fprintf(&b, ":%d:%d", st.Size(), st.ModTime().UnixNano())
		}
		b.WriteByte('|')
	}
	return b.String()
}

// reload loads the files again if they changed; s.mu is held.
func (s *certStore) reload(force bool) error {
	now := time.Now()
	p := s.cfg.tlsSnapshot()
	stamp := fileStamp(p.certFile, p.keyFile, p.clientCertFile, p.clientKeyFile, p.caFile)
	if !force && stamp == s.stamp && now.Sub(s.checked) < time.Second {
		return nil
	}
	s.checked = now
	if stamp == s.stamp {
		return nil
	}
	err := s.load(p)
	s.stamp = stamp
	if err != nil {
		if s.cert != nil && (s.lastError == nil || s.lastError.Error() != err.Error()) {
			s.logger.Error("TLS files failed to load; the previous certificates stay in use", "err", err)
		}
		s.lastError = err
		return err
	}
	if s.lastError != nil || !force {
		s.logger.Info("TLS certificates loaded", "cert", p.certFile, "ca", p.caFile)
	}
	s.lastError = nil
	return nil
}

func (s *certStore) load(p tlsParams) error {
	if p.certFile == "" || p.keyFile == "" {
		return errors.New("TLS needs tls-cert-file and tls-key-file")
	}
	cert, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
	if err != nil {
		return fmt.Errorf("tls-cert-file/tls-key-file: %w", err)
	}
	client := &cert
	if p.clientCertFile != "" {
		cc, err := tls.LoadX509KeyPair(p.clientCertFile, p.clientKeyFile)
		if err != nil {
			return fmt.Errorf("tls-client-cert-file/tls-client-key-file: %w", err)
		}
		client = &cc
	}
	var roots *x509.CertPool
	if p.caFile != "" {
		pem, err := os.ReadFile(p.caFile)
		if err != nil {
			return fmt.Errorf("tls-ca-cert-file: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("tls-ca-cert-file: no certificate in %s", p.caFile)
		}
	}
	s.cert, s.client, s.roots = &cert, client, roots
	return nil
}

// current returns the loaded certificates, loading them again first if they changed.
func (s *certStore) current() (cert, client *tls.Certificate, roots *x509.CertPool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.reload(false)
	return s.cert, s.client, s.roots
}

func (s *certStore) serverCert() (*tls.Certificate, error) {
	c, _, _ := s.current()
	return c, nil
}

func (s *certStore) clientCert() (*tls.Certificate, error) {
	_, c, _ := s.current()
	return c, nil
}

func (s *certStore) caPool() *x509.CertPool {
	_, _, r := s.current()
	return r
}

// tlsVersions maps tls-protocols ("TLSv1.2 TLSv1.3"; empty: both) to a version range.
func tlsVersions(v string) (lo, hi uint16, err error) {
	if strings.TrimSpace(v) == "" {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	for _, w := range strings.Fields(v) {
		var ver uint16
		switch strings.ToLower(w) {
		case "tlsv1":
			ver = tls.VersionTLS10
		case "tlsv1.1":
			ver = tls.VersionTLS11
		case "tlsv1.2":
			ver = tls.VersionTLS12
		case "tlsv1.3":
			ver = tls.VersionTLS13
		default:
			return 0, 0, fmt.Errorf("tls-protocols: unknown protocol %q", w)
		}
		if lo == 0 || ver < lo {
			lo = ver
		}
		if ver > hi {
			hi = ver
		}
	}
	return lo, hi, nil
}

// cipherSuites maps tls-ciphersuites (TLS 1.3 names, colon separated, as OpenSSL writes them)
// and tls-ciphers (TLS 1.2, OpenSSL or Go names) to Go's suite IDs. Go does not let TLS 1.3
// suites be chosen, so tls-ciphersuites is checked but all TLS 1.3 suites stay enabled.
func cipherSuites(tls12 string) ([]uint16, error) {
	if strings.TrimSpace(tls12) == "" {
		return nil, nil
	}
	byName := map[string]uint16{}
	for _, cs := range tls.CipherSuites() {
		byName[cs.Name] = cs.ID
	}
	// OpenSSL's names of Go's secure TLS 1.2 suites.
	openssl := map[string]string{
		"ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
		"ECDHE-RSA-AES128-GCM-SHA256":   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
		"ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
		"ECDHE-RSA-AES256-GCM-SHA384":   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
		"ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
		"ECDHE-RSA-CHACHA20-POLY1305":   "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	}
	var out []uint16
	for _, n := range strings.FieldsFunc(tls12, func(r rune) bool { return r == ':' || r == ' ' || r == ',' }) {
		if g, ok := openssl[n]; ok {
			n = g
		}
		id, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("tls-ciphers: unknown or insecure cipher %q", n)
		}
		out = append(out, id)
	}
	return out, nil
}

func checkTLSProtocols(v string) string {
	if _, _, err := tlsVersions(v); err != nil {
		return err.Error()
	}
	return ""
}

func checkTLSCiphers(v string) string {
	if _, err := cipherSuites(v); err != nil {
		return err.Error()
	}
	return ""
}

// checkTLSCipherSuites accepts TLS 1.3 suite names only when they name every suite Go offers:
// Go does not let a server turn TLS 1.3 suites off, and accepting a narrower list would claim
// a restriction that is not in force.
func checkTLSCipherSuites(v string) string {
	if strings.TrimSpace(v) == "" {
		return ""
	}
	all := map[string]bool{"TLS_AES_128_GCM_SHA256": false, "TLS_AES_256_GCM_SHA384": false, "TLS_CHACHA20_POLY1305_SHA256": false}
	for _, n := range strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ' ' || r == ',' }) {
		if _, ok := all[n]; !ok {
			return fmt.Sprintf("tls-ciphersuites: unknown TLS 1.3 suite %q", n)
		}
		all[n] = true
	}
	for _, seen := range all {
		if !seen {
			return "tls-ciphersuites: cairn (Go's TLS) cannot disable TLS 1.3 suites; list all three or leave it empty"
		}
	}
	return ""
}
