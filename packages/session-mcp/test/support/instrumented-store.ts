import {
  type CreateOptions,
  type CreateOutcome,
  type DeleteOptions,
  type LookupOptions,
  type SessionLookup,
  type SessionRecord,
  silentSendLog,
  type TouchOptions,
} from "@mcp-sessions/session-core";
import { MemorySessionStore } from "@mcp-sessions/session-memory";

export type StoreCalls = Record<"create" | "get" | "touch" | "delete", number>;

/**
 * A real `MemorySessionStore` that counts its calls, and can fail or hold the next `touch`: the
 * way to make a store answer late or not at all without mocking it.
 */
export class InstrumentedStore extends MemorySessionStore {
  calls: StoreCalls = { create: 0, get: 0, touch: 0, delete: 0 };
  /** The id of every `touch`, in call order; `resetCalls` leaves it alone. */
  readonly touched: string[] = [];
  /** Thrown by the next `touch`, then cleared. */
  failNextTouch: Error | undefined;
  /** While set, every `touch` waits for it before answering. */
  holdTouches: Promise<void> | undefined;

  constructor() {
    super({ logger: silentSendLog });
  }

  resetCalls(): void {
    this.calls = { create: 0, get: 0, touch: 0, delete: 0 };
  }

  override create(record: SessionRecord, options?: CreateOptions): Promise<CreateOutcome> {
    this.calls.create++;
    return super.create(record, options);
  }

  override get(id: string, options: LookupOptions): Promise<SessionLookup> {
    this.calls.get++;
    return super.get(id, options);
  }

  override async touch(id: string, options: TouchOptions): Promise<SessionLookup> {
    this.calls.touch++;
    this.touched.push(id);
    if (this.holdTouches) await this.holdTouches;
    const failure = this.failNextTouch;
    if (failure) {
      this.failNextTouch = undefined;
      throw failure;
    }
    return super.touch(id, options);
  }

  override delete(id: string, options: DeleteOptions): Promise<boolean> {
    this.calls.delete++;
    return super.delete(id, options);
  }
}
