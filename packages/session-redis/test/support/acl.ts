import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { expect } from "vitest";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** The user the README's ACL rule creates. */
export const ACL_USER = "mcp-sessions";

/**
 * The README's ACL rule, the one line that starts with `ACL SETUSER`, filled in and split into
 * the arguments of ACL SETUSER after the user name.
 */
export function readmeAclRule(fill: { password: string; prefix: string; db: number }): string[] {
  const rules = README.split("\n").filter((line) => line.startsWith("ACL SETUSER "));
  expect(rules).toHaveLength(1);
  const [acl, setuser, user, ...rule] = (rules[0] as string)
    .replaceAll("<password>", fill.password)
    .replaceAll("<prefix>", fill.prefix)
    .replaceAll("<db>", String(fill.db))
    .split(/\s+/);
  expect([acl, setuser, user]).toEqual(["ACL", "SETUSER", ACL_USER]);
  return rule;
}

/**
 * Rules the README says to add in some case, checked to be quoted there as written (with
 * `<prefix>` filled in afterwards), as arguments.
 */
export function readmeAclAddition(words: string, prefix = ""): string[] {
  expect(README).toContain(`\`${words}\``);
  return words.replaceAll("<prefix>", prefix).split(" ");
}

/**
 * What the README says to add for the server's version: `+client|setinfo` from Redis 7.2 on,
 * where ioredis sends CLIENT SETINFO on connect.
 */
export async function readmeAclVersionAdditions(server: Redis): Promise<string[]> {
  const info = await server.info("server");
  const [major = 0, minor = 0] = (/redis_version:([\d.]+)/.exec(info)?.[1] ?? "0")
    .split(".")
    .map(Number);
  return major > 7 || (major === 7 && minor >= 2) ? readmeAclAddition("+client|setinfo") : [];
}

/** `ACL LOG` of one server as `{ reason, context, object }`: every refusal since its reset. */
export async function aclLog(server: Redis): Promise<Record<string, string>[]> {
  const entries = (await server.call("ACL", "LOG")) as unknown[][];
  return entries.map((entry) => {
    const fields: Record<string, string> = {};
    for (let index = 0; index + 1 < entry.length; index += 2) {
      fields[String(entry[index])] = String(entry[index + 1]);
    }
    return {
      reason: fields.reason ?? "",
      context: fields.context ?? "",
      object: fields.object ?? "",
    };
  });
}
