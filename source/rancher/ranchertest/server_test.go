package ranchertest

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestCollectionShape(t *testing.T) {
	s := NewServer(Options{
		Clusters: []Cluster{{ID: "c-b", Name: "b"}, {ID: "c-a", Name: "a"}, {ID: "c-c", Name: "c"}},
		Tokens:   []Token{{Value: "token-x:y"}},
	})
	defer s.Close()
	req, _ := http.NewRequest("GET", s.URL+"/v3/clusters?limit=2", nil)
	req.Header.Set("Authorization", "Bearer token-x:y")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Type, ResourceType string
		Pagination         struct {
			Limit, Total int
			Next         string
		}
		Data []struct{ Type, ID string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "collection" || got.ResourceType != "cluster" || got.Pagination.Limit != 2 || got.Pagination.Total != 3 ||
		got.Pagination.Next != s.URL+"/v3/clusters?limit=2&marker=c-c" || len(got.Data) != 2 || got.Data[0].ID != "c-a" || got.Data[0].Type != "cluster" {
		t.Fatalf("got %+v", got)
	}
}
