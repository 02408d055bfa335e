package topics

import (
	_ "embed"
	"fmt"
	"sync"

	"gopkg.in/yaml.v3"
)

// AsyncAPI is asyncapi.yaml, the contract for tools and other languages,
// as built into this package: one source for the document and for the
// robot rules below.
//
//go:embed asyncapi.yaml
var AsyncAPI []byte

// Rule is one of the rules every robot must follow, whatever its language:
// info.x-robot-rules of asyncapi.yaml.
type Rule struct {
	ID    string `yaml:"id"`    // short name, e.g. "failsafe"
	Title string `yaml:"title"` // a few words
	Text  string `yaml:"text"`  // the rule in full, one paragraph
}

var rules = sync.OnceValues(func() ([]Rule, error) {
	var doc struct {
		Info struct {
			Rules []Rule `yaml:"x-robot-rules"`
		} `yaml:"info"`
	}
	if err := yaml.Unmarshal(AsyncAPI, &doc); err != nil {
		return nil, fmt.Errorf("asyncapi.yaml: %w", err)
	}
	if len(doc.Info.Rules) == 0 {
		return nil, fmt.Errorf("asyncapi.yaml: info.x-robot-rules is empty")
	}
	return doc.Info.Rules, nil
})

// RobotRules returns the robot rules in the document's order. The document
// is built in and checked by the package's tests, so an error here means
// the binary was built from a broken asyncapi.yaml: it panics.
func RobotRules() []Rule {
	r, err := rules()
	if err != nil {
		panic(err)
	}
	return append([]Rule(nil), r...)
}

// RobotRule returns the rule with the given id.
func RobotRule(id string) (Rule, bool) {
	for _, r := range RobotRules() {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}
