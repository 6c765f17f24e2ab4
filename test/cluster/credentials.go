package cluster

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// adminUser is the token-authenticated user everything in the cluster acts as.
const adminUser = "admin"

// newToken returns a random bearer token.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// writeTokenFile writes the API server's --token-auth-file: token for an admin in system:masters,
// which RBAC lets do anything without any binding having to exist yet.
func writeTokenFile(path, token string) error {
	line := fmt.Sprintf("%s,%s,%s,system:masters\n", token, adminUser, adminUser)
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		return fmt.Errorf("write token file: %w", err)
	}
	return nil
}

// writeServiceAccountKey writes a new RSA key as PEM. The API server signs service account
// tokens with it and verifies them with its public half, read from the same file.
func writeServiceAccountKey(path string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generate service account key: %w", err)
	}
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return fmt.Errorf("write service account key: %w", err)
	}
	return nil
}

// caCertificates returns the CA certificates of a PEM bundle, leaving out the serving
// certificate the API server puts first: kube-controller-manager publishes its root CA file
// as a ClusterTrustBundle, which the API server rejects if an entry is not a CA.
func caCertificates(bundle []byte) ([]byte, error) {
	var cas []byte
	for rest := bundle; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		if cert.IsCA {
			cas = append(cas, pem.EncodeToMemory(block)...)
		}
	}
	if len(cas) == 0 {
		return nil, errors.New("no CA certificate in the bundle")
	}
	return cas, nil
}
