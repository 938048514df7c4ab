package files

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/internal/yamlconv"
	"github.com/meshpilot/meshpilot/mesh"
)

// certKeys are the data keys Istio reads a server certificate from.
var certKeys = []string{"tls.crt", "cert"}

// certPairs are the certificate and private key data keys Istio serves a
// credential from, in the order it tries them.
var certPairs = [][2]string{{"cert", "key"}, {"tls.crt", "tls.key"}}

// secret keeps a Secret's metadata, type and key names, and facts derived
// from its certificate; the data itself is dropped here and never stored.
func (d *decoder) secret(obj *mesh.Object, top map[string]*yaml.Node, off int, path string, b *yamlconv.Budget,
	fail func(int, string, string, ...any)) bool {
	meta, ok := d.meta(top["metadata"], off, path, b, fail)
	if !ok {
		return false
	}
	obj.Meta = meta
	info := &mesh.SecretInfo{Type: corev1.SecretType(scalar(top["type"]))}
	if info.Type == "" {
		info.Type = corev1.SecretTypeOpaque
	}
	values := map[string]string{}
	for _, field := range []string{"data", "stringData"} {
		n := top[field]
		if n == nil || n.Kind != yaml.MappingNode {
			continue
		}
		pairs, _ := yamlconv.Pairs(n, field)
		for _, p := range pairs {
			v := scalar(yamlconv.Resolve(p.Value))
			if field == "data" {
				raw, err := base64.StdEncoding.DecodeString(v)
				if err != nil {
					obj.SchemaErrors = append(obj.SchemaErrors, mesh.FieldError{Path: join(path, "data."+p.Key),
						Line: p.Value.Line + off, Message: "value is not valid base64"})
					continue
				}
				v = string(raw)
			}
			if _, seen := values[p.Key]; !seen {
				info.Keys = append(info.Keys, p.Key)
			}
			values[p.Key] = v
		}
	}
	sort.Strings(info.Keys)
	info.Cert = pickCert(values)
	clear(values)
	obj.Obj = info
	return true
}

// pickCert reads the certificate Istio would serve: the first pair of
// certPairs with both values non-empty, else whichever certificate key is
// present.
func pickCert(values map[string]string) *mesh.CertFacts {
	for _, p := range certPairs {
		if values[p[0]] != "" && values[p[1]] != "" {
			f := certFacts(p[0], values[p[0]])
			f.Paired = true
			return f
		}
	}
	for _, k := range certKeys {
		if v, ok := values[k]; ok {
			return certFacts(k, v)
		}
	}
	return nil
}

func certFacts(key, data string) *mesh.CertFacts {
	f := &mesh.CertFacts{Key: key}
	block, _ := pem.Decode([]byte(data))
	if block == nil {
		f.ParseErr = "no PEM block"
		return f
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		f.ParseErr = fmt.Sprintf("not an X.509 certificate: %v", err)
		return f
	}
	f.NotBefore, f.NotAfter = cert.NotBefore.Unix(), cert.NotAfter.Unix()
	return f
}
