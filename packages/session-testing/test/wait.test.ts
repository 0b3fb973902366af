import { expect, it } from "vitest";
import { deferred, pollUntil, within } from "../src/wait/index.js";

it("deferred: a promise the test resolves or rejects from elsewhere", async () => {
  const resolved = deferred<string>();
  resolved.resolve("done");
  resolved.resolve("again");
  expect(await resolved.promise).toBe("done");

  const rejected = deferred();
  rejected.reject(new Error("refused"));
  await expect(rejected.promise).rejects.toThrow("refused");
});

it("within: the promise's value, or its rejection, as soon as it settles", async () => {
  const bound = { waitingFor: "the answer", timeoutMs: 60_000 };
  expect(await within(Promise.resolve(42), bound)).toBe(42);
  await expect(within(Promise.reject(new Error("no answer")), bound)).rejects.toThrow("no answer");
});

it("within: rejects naming what never came once the bound has passed", async () => {
  const never = deferred();
  await expect(within(never.promise, { waitingFor: "the reply", timeoutMs: 20 })).rejects.toThrow(
    "Timed out after 20 ms waiting for the reply",
  );
});

it("pollUntil: resolves once the check holds, sync or async, and treats a throw as not yet", async () => {
  let calls = 0;
  await pollUntil(
    () => {
      calls++;
      if (calls === 1) throw new Error("not up yet");
      return calls === 3;
    },
    { waitingFor: "the third call", timeoutMs: 60_000, intervalMs: 1 },
  );
  expect(calls).toBe(3);
  await pollUntil(async () => true, { waitingFor: "nothing", timeoutMs: 60_000 });
});

it("pollUntil: rejects after the bound, with the check's last error as the cause", async () => {
  const failure = pollUntil(
    () => {
      throw new Error("connection refused");
    },
    { waitingFor: "the server to answer", timeoutMs: 20, intervalMs: 1 },
  );
  await expect(failure).rejects.toThrow("Timed out after 20 ms waiting for the server to answer");
  await expect(failure).rejects.toHaveProperty("cause.message", "connection refused");
});

it("pollUntil: rejects with the signal's reason once it aborts", async () => {
  const controller = new AbortController();
  const polling = pollUntil(() => false, {
    waitingFor: "never",
    timeoutMs: 60_000,
    signal: controller.signal,
  });
  controller.abort(new Error("the process exited"));
  await expect(polling).rejects.toThrow("the process exited");
});
