package api

import "net/http"

// The discovery endpoints (RFC 7644 section 4): what this read-only
// service provider supports, and the attributes it serves.

func scimServiceProviderConfig(w http.ResponseWriter, r *http.Request) {
	no := map[string]any{"supported": false}
	writeSCIM(w, http.StatusOK, map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://github.com/adsync/adsync#scim",
		"patch":            no, "bulk": map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":         map[string]any{"supported": true, "maxResults": scimMaxResults},
		"changePassword": no, "sort": no, "etag": map[string]any{"supported": true},
		"authenticationSchemes": []map[string]any{{"type": "oauthbearertoken", "name": "Bearer token",
			"description": "Authorization: Bearer <token>, a token of http.tokens (any role reads)", "primary": true}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": baseURL(r) + "/ServiceProviderConfig"},
	})
}

func scimResourceTypes(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r)
	types := []map[string]any{
		{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}, "id": "User", "name": "User", "endpoint": "/Users",
			"description": "An account adsync keeps in step with the directory", "schema": scimUserSchema,
			"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"}},
		{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}, "id": "Group", "name": "Group", "endpoint": "/Groups",
			"description": "A directory group of synced accounts", "schema": scimGroupSchema,
			"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/Group"}},
	}
	writeSCIM(w, http.StatusOK, listOf(types))
}

func listOf(items []map[string]any) scimListResponse {
	res := make([]any, len(items))
	for i, it := range items {
		res[i] = it
	}
	return scimListResponse{Schemas: []string{scimListSchema}, TotalResults: len(items), StartIndex: 1, ItemsPerPage: len(items), Resources: res}
}

// attr describes one read-only attribute.
func attr(name, typ string, extra map[string]any) map[string]any {
	a := map[string]any{"name": name, "type": typ, "multiValued": false, "required": false, "caseExact": false,
		"mutability": "readOnly", "returned": "default", "uniqueness": "none"}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

func scimSchemas(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r)
	ref := func(name string) map[string]any {
		return attr(name, "complex", map[string]any{"multiValued": true, "subAttributes": []map[string]any{
			attr("value", "string", nil), attr("display", "string", nil), attr("$ref", "reference", nil), attr("type", "string", nil)}})
	}
	user := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"}, "id": scimUserSchema, "name": "User",
		"description": "An account adsync keeps; id is domain:external_id",
		"attributes": []map[string]any{
			attr("userName", "string", map[string]any{"required": true, "uniqueness": "server", "description": "the local name"}),
			attr("name", "complex", map[string]any{"subAttributes": []map[string]any{attr("givenName", "string", nil), attr("familyName", "string", nil)}}),
			attr("displayName", "string", nil),
			attr("emails", "complex", map[string]any{"multiValued": true, "subAttributes": []map[string]any{
				attr("value", "string", nil), attr("type", "string", nil), attr("primary", "boolean", nil)}}),
			attr("active", "boolean", nil),
			ref("groups"),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + scimUserSchema},
	}
	group := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"}, "id": scimGroupSchema, "name": "Group",
		"description": "A directory group; id is domain:external_id",
		"attributes":  []map[string]any{attr("displayName", "string", map[string]any{"required": true}), ref("members")},
		"meta":        map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + scimGroupSchema},
	}
	writeSCIM(w, http.StatusOK, listOf([]map[string]any{user, group}))
}
