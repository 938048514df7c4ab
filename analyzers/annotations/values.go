package annotations

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
	"istio.io/api/annotation"
	meshconfig "istio.io/api/mesh/v1alpha1"

	"github.com/meshpilot/meshpilot/internal/yamlconv"
)

// valueCheckers are the annotations whose values the sidecar injector
// parses, with what it accepts.
var valueCheckers = map[string]func(string) error{
	annotation.SidecarInterceptionMode.Name:                   interceptionMode,
	annotation.SidecarStatusPort.Name:                         singlePort,
	annotation.SidecarStatusReadinessInitialDelaySeconds.Name: unsigned32,
	annotation.SidecarStatusReadinessPeriodSeconds.Name:       unsigned32,
	annotation.SidecarStatusReadinessFailureThreshold.Name:    unsigned32,
	annotation.SidecarTrafficIncludeOutboundIPRanges.Name:     starOr(cidrList),
	annotation.SidecarTrafficExcludeOutboundIPRanges.Name:     cidrList,
	annotation.SidecarTrafficIncludeInboundPorts.Name:         starOr(portList),
	annotation.SidecarTrafficExcludeInboundPorts.Name:         portList,
	annotation.SidecarTrafficExcludeOutboundPorts.Name:        portList,
	annotation.PrometheusMergeMetrics.Name:                    boolean,
	annotation.ProxyConfig.Name:                               proxyConfig,
}

func interceptionMode(v string) error {
	switch v {
	case "REDIRECT", "TPROXY", "NONE":
		return nil
	}
	return errors.New("want REDIRECT, TPROXY or NONE")
}

func unsigned32(v string) error {
	if _, err := strconv.ParseUint(v, 10, 32); err != nil {
		return errors.New("want a non-negative integer")
	}
	return nil
}

func boolean(v string) error {
	if _, err := strconv.ParseBool(v); err != nil {
		return errors.New("want true or false")
	}
	return nil
}

func singlePort(v string) error {
	if _, err := strconv.ParseUint(strings.TrimSpace(v), 10, 16); err != nil {
		return fmt.Errorf("%q is not a port number", v)
	}
	return nil
}

// portList accepts a comma-separated list of ports, or nothing.
func portList(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	for _, p := range strings.Split(v, ",") {
		if err := singlePort(p); err != nil {
			return err
		}
	}
	return nil
}

// cidrList accepts a comma-separated list of CIDR prefixes, or nothing.
func cidrList(v string) error {
	if v == "" {
		return nil
	}
	for _, c := range strings.Split(v, ",") {
		if _, err := netip.ParsePrefix(c); err != nil {
			return fmt.Errorf("%q is not a CIDR range", c)
		}
	}
	return nil
}

func starOr(check func(string) error) func(string) error {
	return func(v string) error {
		if v == "*" {
			return nil
		}
		return check(v)
	}
}

// proxyConfig accepts a YAML ProxyConfig with only known fields of the
// right types.
func proxyConfig(v string) error {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(v), &doc); err != nil {
		return fmt.Errorf("not YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	pc := &meshconfig.ProxyConfig{}
	errs := yamlconv.DecodeProto(doc.Content[0], pc.ProtoReflect(), "", yamlconv.NewBudget(yamlconv.DefaultLimits))
	if len(errs) > 0 {
		return fmt.Errorf("not a ProxyConfig: %w", errs[0])
	}
	return nil
}
