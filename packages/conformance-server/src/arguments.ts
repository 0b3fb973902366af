import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

/**
 * The arguments of a tool call or prompt, checked against `schema`.
 * @throws McpError with code -32602 (invalid params), naming what is wrong
 */
export function parseArguments<T>(schema: z.ZodType<T>, args: unknown): T {
  const parsed = schema.safeParse(args ?? {});
  if (!parsed.success) {
    throw new McpError(
      ErrorCode.InvalidParams,
      `Invalid arguments: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}
