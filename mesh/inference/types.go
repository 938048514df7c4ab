// Package inference models the few types of the Gateway API Inference
// Extension (inference.networking.k8s.io and inference.networking.x-k8s.io)
// from its published API reference; its Go module is not served by our module
// proxy. One Go type serves every version: fields of both shapes are kept.
package inference

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// InferencePool groups model-server pods behind an endpoint picker.
type InferencePool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              InferencePoolSpec `json:"spec"`
}

// InferencePoolSpec covers v1 and v1alpha2.
type InferencePoolSpec struct {
	// Selector: v1 {matchLabels: {...}}; v1alpha2 a plain label map.
	Selector PoolSelector `json:"selector"`
	// v1
	TargetPorts       []Port        `json:"targetPorts,omitempty"`
	EndpointPickerRef *ExtensionRef `json:"endpointPickerRef,omitempty"`
	// v1alpha2
	TargetPortNumber int32         `json:"targetPortNumber,omitempty"`
	ExtensionRef     *ExtensionRef `json:"extensionRef,omitempty"`
}

// Port is a v1 target port.
type Port struct {
	Number int32 `json:"number"`
}

// ExtensionRef names the endpoint picker service.
type ExtensionRef struct {
	Group       *string `json:"group,omitempty"`
	Kind        *string `json:"kind,omitempty"`
	Name        string  `json:"name"`
	PortNumber  *int32  `json:"portNumber,omitempty"`
	Port        *Port   `json:"port,omitempty"`
	FailureMode *string `json:"failureMode,omitempty"`
}

// PoolSelector accepts both selector shapes.
type PoolSelector struct {
	MatchLabels map[string]string
}

// UnmarshalJSON reads {matchLabels: {...}} or a plain map of labels.
func (s *PoolSelector) UnmarshalJSON(b []byte) error {
	var wrapped struct {
		MatchLabels map[string]string `json:"matchLabels"`
	}
	if err := json.Unmarshal(b, &wrapped); err == nil && wrapped.MatchLabels != nil {
		s.MatchLabels = wrapped.MatchLabels
		return nil
	}
	var plain map[string]string
	if err := json.Unmarshal(b, &plain); err != nil {
		return err
	}
	s.MatchLabels = plain
	return nil
}

// MarshalJSON writes the v1 shape.
func (s PoolSelector) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"matchLabels": s.MatchLabels})
}

// PoolRef references an InferencePool.
type PoolRef struct {
	Group string `json:"group,omitempty"`
	Kind  string `json:"kind,omitempty"`
	Name  string `json:"name"`
}

// InferenceModel (v1alpha2) maps a model name to a pool.
type InferenceModel struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              InferenceModelSpec `json:"spec"`
}

// InferenceModelSpec is the v1alpha2 spec.
type InferenceModelSpec struct {
	ModelName    string        `json:"modelName"`
	Criticality  *string       `json:"criticality,omitempty"`
	TargetModels []TargetModel `json:"targetModels,omitempty"`
	PoolRef      PoolRef       `json:"poolRef"`
}

// TargetModel is a weighted model target.
type TargetModel struct {
	Name   string `json:"name"`
	Weight *int32 `json:"weight,omitempty"`
}

// InferenceObjective (v1alpha2) gives requests to a pool a priority.
type InferenceObjective struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              InferenceObjectiveSpec `json:"spec"`
}

// InferenceObjectiveSpec is the v1alpha2 spec.
type InferenceObjectiveSpec struct {
	Priority *int    `json:"priority,omitempty"`
	PoolRef  PoolRef `json:"poolRef"`
}
