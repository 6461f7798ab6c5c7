package main

import (
	"context"
	"strings"
	"testing"
)

func TestDemoSmall(t *testing.T) {
	var out, errb strings.Builder
	code := run(context.Background(), []string{"-events", "20000", "-parallelism", "2"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, &errb)
	}
	for _, want := range []string{"check: OK", "events generated: 20,000\n", "parallelism:      2\n", "throughput:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, &out)
		}
	}
}

func TestDemoBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-events", "many"},
		{"-events", "-5"},
		{"-parallelism", "-1"},
		{"-nope"},
		{"extra"},
	} {
		var out, errb strings.Builder
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("run(%q) = %d, want 2; stderr:\n%s", args, code, &errb)
		}
		if errb.Len() == 0 {
			t.Errorf("run(%q) printed nothing on stderr", args)
		}
	}
}

func TestDemoHelp(t *testing.T) {
	var out, errb strings.Builder
	if code := run(context.Background(), []string{"-h"}, &out, &errb); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
	if !strings.Contains(errb.String(), "-events") {
		t.Errorf("-h does not list -events:\n%s", &errb)
	}
}
