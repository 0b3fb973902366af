import {
  McpError,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplate,
} from "@modelcontextprotocol/sdk/types.js";
import { PNG_1X1_BASE64 } from "./media.js";

/** MCP's JSON-RPC error code for a resource URI the server does not know. */
export const RESOURCE_NOT_FOUND = -32002;

type ResourceContents = ReadResourceResult["contents"][number];

interface FixtureResource {
  readonly resource: Resource;
  readonly contents: ResourceContents;
}

const STATIC_RESOURCES: readonly FixtureResource[] = [
  {
    resource: {
      uri: "test://static-text",
      name: "static-text",
      description: "A text resource that never changes.",
      mimeType: "text/plain",
    },
    contents: {
      uri: "test://static-text",
      mimeType: "text/plain",
      text: "This is the content of the static text resource.",
    },
  },
  {
    resource: {
      uri: "test://static-binary",
      name: "static-binary",
      description: "A binary resource (a PNG image) that never changes.",
      mimeType: "image/png",
    },
    contents: { uri: "test://static-binary", mimeType: "image/png", blob: PNG_1X1_BASE64 },
  },
  {
    resource: {
      uri: "test://watched-resource",
      name: "watched-resource",
      description: "A resource to subscribe to.",
      mimeType: "text/plain",
    },
    contents: {
      uri: "test://watched-resource",
      mimeType: "text/plain",
      text: "Watched resource content.",
    },
  },
];

/** What `resources/list` answers: the direct resources, not the templates. */
export const FIXTURE_RESOURCES: readonly Resource[] = STATIC_RESOURCES.map(
  ({ resource }) => resource,
);

/** What `resources/templates/list` answers. */
export const FIXTURE_RESOURCE_TEMPLATES: readonly ResourceTemplate[] = [
  {
    uriTemplate: "test://template/{id}/data",
    name: "template",
    description: "JSON data for the `id` in the URI.",
    mimeType: "application/json",
  },
];

const TEMPLATE_URI = /^test:\/\/template\/([^/]+)\/data$/;

/**
 * The contents of `uri`: a static resource, or the template filled in with its `id`.
 * @throws McpError with code -32002 (resource not found) for any other URI
 */
export function readFixtureResource(uri: string): ReadResourceResult {
  const known = STATIC_RESOURCES.find(({ resource }) => resource.uri === uri);
  if (known !== undefined) return { contents: [known.contents] };
  const value = templateId(uri);
  if (value !== undefined) {
    return {
      contents: [
        {
          uri,
          mimeType: "application/json",
          text: JSON.stringify({ id: value, templateTest: true, data: `Data for ID: ${value}` }),
        },
      ],
    };
  }
  throw new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${uri}`, { uri });
}

/** The `id` of a URI that fits the template, decoded; `undefined` for any other URI. */
function templateId(uri: string): string | undefined {
  const id = TEMPLATE_URI.exec(uri)?.[1];
  if (id === undefined) return undefined;
  try {
    // Template variables arrive percent-encoded, as the client put them in the URI.
    return decodeURIComponent(id);
  } catch {
    // Malformed percent-encoding ("%E0%A4%A"): no resource has such a URI.
    return undefined;
  }
}

/**
 * Checks that `uri` names a resource one may subscribe to.
 * @throws McpError with code -32002 for a URI that is neither a resource nor fits the template
 */
export function assertSubscribable(uri: string): void {
  readFixtureResource(uri);
}
