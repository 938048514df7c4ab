package ranchertest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// kubeconfig is the part of a kubeconfig file (clientcmd's v1 Config) that
// ClusterFromKubeconfig reads and Server.Kubeconfig writes.
type kubeconfig struct {
	APIVersion string         `yaml:"apiVersion"`
	Kind       string         `yaml:"kind"`
	Clusters   []namedCluster `yaml:"clusters"`
	Users      []namedUser    `yaml:"users"`
	Contexts   []namedContext `yaml:"contexts"`
	Current    string         `yaml:"current-context"`
}

type namedCluster struct {
	Name    string `yaml:"name"`
	Cluster struct {
		Server        string `yaml:"server"`
		CAData        string `yaml:"certificate-authority-data,omitempty"`
		CAFile        string `yaml:"certificate-authority,omitempty"`
		Insecure      bool   `yaml:"insecure-skip-tls-verify,omitempty"`
		TLSServerName string `yaml:"tls-server-name,omitempty"`
	} `yaml:"cluster"`
}

type namedUser struct {
	Name string `yaml:"name"`
	User struct {
		Token        string    `yaml:"token,omitempty"`
		TokenFile    string    `yaml:"tokenFile,omitempty"`
		CertData     string    `yaml:"client-certificate-data,omitempty"`
		CertFile     string    `yaml:"client-certificate,omitempty"`
		KeyData      string    `yaml:"client-key-data,omitempty"`
		KeyFile      string    `yaml:"client-key,omitempty"`
		Username     string    `yaml:"username,omitempty"`
		Exec         yaml.Node `yaml:"exec,omitempty"`
		AuthProvider yaml.Node `yaml:"auth-provider,omitempty"`
	} `yaml:"user"`
}

type namedContext struct {
	Name    string `yaml:"name"`
	Context struct {
		Cluster string `yaml:"cluster"`
		User    string `yaml:"user"`
	} `yaml:"context"`
}

// ClusterFromKubeconfig returns a Cluster whose proxy reaches the API server
// of the kubeconfig's current context (or its only context) with that
// context's credential: a bearer token (token, tokenFile) or a client
// certificate. The credential must be allowed to impersonate users, groups
// and userextras, as hack/testenv's admin (system:masters) is.
func ClusterFromKubeconfig(id, name, path string) (Cluster, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Cluster{}, err
	}
	var kc kubeconfig
	if err := yaml.Unmarshal(b, &kc); err != nil {
		return Cluster{}, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	c, err := kc.cluster(filepath.Dir(path))
	if err != nil {
		return Cluster{}, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	c.ID, c.Name = id, name
	return c, nil
}

func (kc *kubeconfig) cluster(dir string) (Cluster, error) {
	ctxName := kc.Current
	if ctxName == "" && len(kc.Contexts) == 1 {
		ctxName = kc.Contexts[0].Name
	}
	var ctx *namedContext
	for i := range kc.Contexts {
		if kc.Contexts[i].Name == ctxName {
			ctx = &kc.Contexts[i]
		}
	}
	if ctx == nil {
		return Cluster{}, fmt.Errorf("no context %q (set current-context)", ctxName)
	}
	var cl *namedCluster
	for i := range kc.Clusters {
		if kc.Clusters[i].Name == ctx.Context.Cluster {
			cl = &kc.Clusters[i]
		}
	}
	var u *namedUser
	for i := range kc.Users {
		if kc.Users[i].Name == ctx.Context.User {
			u = &kc.Users[i]
		}
	}
	if cl == nil || u == nil {
		return Cluster{}, fmt.Errorf("context %q: cluster %q or user %q missing", ctxName, ctx.Context.Cluster, ctx.Context.User)
	}
	read := func(data, file string) ([]byte, error) {
		if data != "" {
			return base64.StdEncoding.DecodeString(data)
		}
		if file == "" {
			return nil, nil
		}
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		return os.ReadFile(file)
	}

	cfg := &tls.Config{ServerName: cl.Cluster.TLSServerName, InsecureSkipVerify: cl.Cluster.Insecure}
	ca, err := read(cl.Cluster.CAData, cl.Cluster.CAFile)
	if err != nil {
		return Cluster{}, fmt.Errorf("cluster %q: certificate authority: %w", cl.Name, err)
	}
	if ca != nil {
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(ca) {
			return Cluster{}, fmt.Errorf("cluster %q: certificate authority: no PEM certificate", cl.Name)
		}
	}

	c := Cluster{BackendURL: cl.Cluster.Server, TLS: cfg}
	switch user := u.User; {
	case user.Token != "":
		c.BearerToken = user.Token
	case user.TokenFile != "":
		t, err := read("", user.TokenFile)
		if err != nil {
			return Cluster{}, fmt.Errorf("user %q: token file: %w", u.Name, err)
		}
		c.BearerToken = strings.TrimSpace(string(t))
	case user.CertData != "" || user.CertFile != "":
		cert, err := read(user.CertData, user.CertFile)
		if err != nil {
			return Cluster{}, fmt.Errorf("user %q: client certificate: %w", u.Name, err)
		}
		key, err := read(user.KeyData, user.KeyFile)
		if err != nil {
			return Cluster{}, fmt.Errorf("user %q: client key: %w", u.Name, err)
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return Cluster{}, fmt.Errorf("user %q: %w", u.Name, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	default:
		return Cluster{}, fmt.Errorf("user %q: %w", u.Name, errUnsupportedCredential)
	}
	return c, nil
}

var errUnsupportedCredential = errors.New("no token or client certificate (basic auth, exec and auth-provider credentials are not supported)")

// Kubeconfig is the kubeconfig Rancher generates for a cluster and a token
// (rancher/rancher pkg/kubeconfig/templates.go): the server is
// <URL>/k8s/clusters/<id>, the certificate authority is CAPEM (omitted
// without TLS), the user is the token.
func (s *Server) Kubeconfig(clusterID, token string) []byte {
	name := clusterID
	if c, ok := s.cluster(clusterID); ok && c.Name != "" {
		name = c.Name
	}
	var kc kubeconfig
	kc.APIVersion, kc.Kind, kc.Current = "v1", "Config", name
	var cl namedCluster
	cl.Name = name
	cl.Cluster.Server = s.URL + "/k8s/clusters/" + clusterID
	if ca := s.CAPEM(); ca != nil {
		cl.Cluster.CAData = base64.StdEncoding.EncodeToString(ca)
	}
	var u namedUser
	u.Name = name
	u.User.Token = token
	var ctx namedContext
	ctx.Name = name
	ctx.Context.Cluster, ctx.Context.User = name, name
	kc.Clusters, kc.Users, kc.Contexts = []namedCluster{cl}, []namedUser{u}, []namedContext{ctx}

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&kc); err != nil {
		panic(fmt.Sprintf("ranchertest: encode kubeconfig: %v", err))
	}
	return buf.Bytes()
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
