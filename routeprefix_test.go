package main

import "testing"

func TestRoutePrefixOf(t *testing.T) {
	for _, tc := range []struct {
		external, prefix, want string
		bad                    bool
	}{
		{"", "", "", false},
		{"", "/", "", false},
		{"", "ab/", "/ab", false},
		{"http://ops.example.com/alertbridge/", "", "/alertbridge", false},
		{"https://ops.example.com/alertbridge", "/", "", false},
		{"https://ops.example.com/", "/inner", "/inner", false},
		{"ops.example.com/alertbridge", "", "", true},
		{"ftp://ops.example.com/", "", "", true},
		{"https://user:pw@ops.example.com/", "", "", true},
	} {
		got, err := routePrefixOf(tc.external, tc.prefix)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("routePrefixOf(%q, %q) = %q, %v; want %q (error: %v)", tc.external, tc.prefix, got, err, tc.want, tc.bad)
		}
	}
}
