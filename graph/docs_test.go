package graph_test

import (
	"strings"
	"testing"
)

// The playground's docs pane explains every type, field, argument and
// enum value: the schema describes them all.
func TestSchema_EverythingIsDescribed(t *testing.T) {
	e := newEnv(t)
	var resp struct {
		Schema struct {
			Types []struct {
				Name, Kind  string
				Description *string
				Fields      []struct {
					Name        string
					Description *string
					Args        []struct {
						Name        string
						Description *string
					}
				}
				InputFields []struct {
					Name        string
					Description *string
				}
				EnumValues []struct {
					Name        string
					Description *string
				}
			}
		} `json:"__schema"`
	}
	e.mustQuery(t, `{ __schema { types { name kind description
		fields { name description args { name description } }
		inputFields { name description }
		enumValues { name description } } } }`, &resp)
	var missing []string
	empty := func(s *string) bool { return s == nil || strings.TrimSpace(*s) == "" }
	builtin := map[string]bool{"String": true, "Int": true, "Float": true, "Boolean": true, "ID": true}
	for _, ty := range resp.Schema.Types {
		if strings.HasPrefix(ty.Name, "__") || builtin[ty.Name] {
			continue
		}
		if empty(ty.Description) {
			missing = append(missing, ty.Name)
		}
		for _, f := range ty.Fields {
			if empty(f.Description) {
				missing = append(missing, ty.Name+"."+f.Name)
			}
			for _, a := range f.Args {
				if empty(a.Description) {
					missing = append(missing, ty.Name+"."+f.Name+"("+a.Name+")")
				}
			}
		}
		for _, f := range ty.InputFields {
			if empty(f.Description) {
				missing = append(missing, ty.Name+"."+f.Name)
			}
		}
		for _, v := range ty.EnumValues {
			if empty(v.Description) {
				missing = append(missing, ty.Name+"."+v.Name)
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d undescribed schema elements:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}
