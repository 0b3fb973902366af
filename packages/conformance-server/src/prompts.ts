import type {
  CompleteRequest,
  CompleteResult,
  GetPromptResult,
  Prompt,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { parseArguments } from "./arguments.js";
import { PNG_1X1_BASE64 } from "./media.js";

interface FixturePrompt {
  /** What `prompts/list` answers for it. */
  readonly definition: Prompt;
  get(args: Readonly<Record<string, string>>): GetPromptResult;
}

const PromptArguments = z.object({ arg1: z.string(), arg2: z.string() });
const EmbeddedResourceArguments = z.object({ resourceUri: z.string() });

/** The prompts the server scenarios get, by name. */
export const FIXTURE_PROMPTS: readonly FixturePrompt[] = [
  {
    definition: { name: "test_simple_prompt", description: "A prompt without arguments." },
    get: () => ({
      messages: [
        { role: "user", content: { type: "text", text: "This is a simple prompt for testing." } },
      ],
    }),
  },
  {
    definition: {
      name: "test_prompt_with_arguments",
      description: "A prompt that quotes its two arguments.",
      arguments: [
        { name: "arg1", description: "First test argument", required: true },
        { name: "arg2", description: "Second test argument", required: true },
      ],
    },
    get: (args) => {
      const { arg1, arg2 } = parseArguments(PromptArguments, args);
      return {
        messages: [
          {
            role: "user",
            content: {
              type: "text",
              text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`,
            },
          },
        ],
      };
    },
  },
  {
    definition: {
      name: "test_prompt_with_embedded_resource",
      description: "A prompt that embeds a text resource at `resourceUri`.",
      arguments: [
        { name: "resourceUri", description: "URI of the resource to embed", required: true },
      ],
    },
    get: (args) => {
      const { resourceUri } = parseArguments(EmbeddedResourceArguments, args);
      return {
        messages: [
          {
            role: "user",
            content: {
              type: "resource",
              resource: {
                uri: resourceUri,
                mimeType: "text/plain",
                text: "Embedded resource content for testing.",
              },
            },
          },
          {
            role: "user",
            content: { type: "text", text: "Please process the embedded resource above." },
          },
        ],
      };
    },
  },
  {
    definition: { name: "test_prompt_with_image", description: "A prompt with a PNG image." },
    get: () => ({
      messages: [
        { role: "user", content: { type: "image", data: PNG_1X1_BASE64, mimeType: "image/png" } },
        { role: "user", content: { type: "text", text: "Please analyze the image above." } },
      ],
    }),
  },
];

/** Values `completion/complete` offers, per prompt argument or template variable. */
const COMPLETIONS: Readonly<Record<string, readonly string[]>> = {
  "ref/prompt test_prompt_with_arguments arg1": ["test", "testValue1", "paris", "park", "party"],
  "ref/prompt test_prompt_with_arguments arg2": ["test", "testValue2", "world"],
  "ref/resource test://template/{id}/data id": ["123", "456", "789"],
};

/**
 * Answers `completion/complete`: the known values that start with what the user typed, so far.
 * Any other prompt, template or argument has none.
 */
export function completeFixtureArgument(params: CompleteRequest["params"]): CompleteResult {
  const { ref, argument } = params;
  const target = ref.type === "ref/prompt" ? ref.name : ref.uri;
  const candidates = COMPLETIONS[`${ref.type} ${target} ${argument.name}`] ?? [];
  const typed = argument.value.toLowerCase();
  const values = candidates.filter((value) => value.toLowerCase().startsWith(typed));
  return { completion: { values, total: values.length, hasMore: false } };
}
