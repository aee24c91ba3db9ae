package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// The Kubernetes API as a pod sees it: the service account's token and CA, and the API
// server's address from the environment every pod is given.
const k8sAccount = "/var/run/secrets/kubernetes.io/serviceaccount/"

// k8sStatefulSetReplicas reads spec.replicas of the StatefulSet name in the pod's namespace.
func k8sStatefulSetReplicas(name string) (int, error) {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return 0, errors.New("not in a Kubernetes pod (KUBERNETES_SERVICE_HOST is unset)")
	}
	token, err := os.ReadFile(k8sAccount + "token")
	if err != nil {
		return 0, err
	}
	ns, err := os.ReadFile(k8sAccount + "namespace")
	if err != nil {
		return 0, err
	}
	ca, err := os.ReadFile(k8sAccount + "ca.crt")
	if err != nil {
		return 0, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return 0, errors.New("the service account's ca.crt holds no certificate")
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	url := fmt.Sprintf("https://%s/apis/apps/v1/namespaces/%s/statefulsets/%s", net.JoinHostPort(host, port), strings.TrimSpace(string(ns)), name)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET statefulset %s: %s", name, resp.Status)
	}
	var set struct {
		Spec struct {
			Replicas *int `json:"replicas"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return 0, err
	}
	if set.Spec.Replicas == nil {
		return 1, nil // the API's default
	}
	return *set.Spec.Replicas, nil
}
