/** One queued deadline. A node is stale once its session no longer points at it. */
export interface DueNode {
  readonly deadline: number;
  readonly id: string;
}

/** Below this many consumed slots, shifting the run's array costs more than it saves. */
const RUN_COMPACT_MIN = 1024;

/**
 * A priority queue of deadlines, split in two. Deadlines are `now + ttl`, so they almost always
 * arrive in order: those go to the tail of a sorted run, and leave from its head, both O(1).
 * The rest (a deadline capped by `maxLifetime`, a clock that stepped back) go to a binary
 * min-heap. A sweep of k due sessions therefore costs O(k) in the usual case and O(k log m) for
 * the m out-of-order ones, never a walk of the live sessions.
 *
 * It is lazy by design: moving a deadline later does not touch the queue, so `touch` stays O(1);
 * the sweep re-queues a node it finds early.
 */
export class DueQueue {
  /** Nodes in non-decreasing deadline order; `#runHead` is the first one still queued. */
  #run: DueNode[] = [];
  #runHead = 0;
  /** Heap order over parallel arrays: `#heapDeadlines[i] <= #heapDeadlines[2i + 1], [2i + 2]`. */
  #heapDeadlines: number[] = [];
  #heapNodes: DueNode[] = [];

  get size(): number {
    return this.#run.length - this.#runHead + this.#heapNodes.length;
  }

  peek(): DueNode | undefined {
    const first = this.#run[this.#runHead];
    const top = this.#heapNodes[0];
    if (first === undefined) return top;
    if (top === undefined) return first;
    return top.deadline < first.deadline ? top : first;
  }

  push(node: DueNode): void {
    const last = this.#run[this.#run.length - 1];
    if (
      last === undefined ||
      last.deadline <= node.deadline ||
      this.#runHead === this.#run.length
    ) {
      this.#run.push(node);
    } else {
      this.#heapPush(node);
    }
  }

  pop(): DueNode | undefined {
    const first = this.#run[this.#runHead];
    const top = this.#heapNodes[0];
    if (first !== undefined && (top === undefined || first.deadline <= top.deadline)) {
      this.#runHead++;
      this.#compactRun();
      return first;
    }
    return top === undefined ? undefined : this.#heapPop();
  }

  /**
   * Visits every node with `deadline <= bound` without removing any. Due run nodes are a prefix,
   * and due heap nodes a subtree at the root, so the walk costs O(matches), not O(size).
   */
  forEachDue(bound: number, visit: (node: DueNode) => void): void {
    for (let index = this.#runHead; index < this.#run.length; index++) {
      const node = this.#run[index] as DueNode;
      if (node.deadline > bound) break;
      visit(node);
    }
    const stack = this.#heapNodes.length > 0 ? [0] : [];
    for (let index = stack.pop(); index !== undefined; index = stack.pop()) {
      const node = this.#heapNodes[index];
      if (node === undefined || node.deadline > bound) continue;
      visit(node);
      stack.push(2 * index + 1, 2 * index + 2);
    }
  }

  /** Replaces the contents with `nodes`, in O(n log n). */
  rebuild(nodes: DueNode[]): void {
    this.clear();
    this.#run = nodes.sort((a, b) => a.deadline - b.deadline);
  }

  clear(): void {
    this.#run = [];
    this.#runHead = 0;
    this.#heapDeadlines = [];
    this.#heapNodes = [];
  }

  #compactRun(): void {
    if (this.#runHead === this.#run.length) {
      this.#run = [];
      this.#runHead = 0;
    } else if (this.#runHead >= RUN_COMPACT_MIN && this.#runHead * 2 >= this.#run.length) {
      this.#run = this.#run.slice(this.#runHead);
      this.#runHead = 0;
    }
  }

  #heapPush(node: DueNode): void {
    const deadlines = this.#heapDeadlines;
    const nodes = this.#heapNodes;
    let index = nodes.length;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((deadlines[parent] as number) <= node.deadline) break;
      deadlines[index] = deadlines[parent] as number;
      nodes[index] = nodes[parent] as DueNode;
      index = parent;
    }
    deadlines[index] = node.deadline;
    nodes[index] = node;
  }

  #heapPop(): DueNode {
    const deadlines = this.#heapDeadlines;
    const nodes = this.#heapNodes;
    const top = nodes[0] as DueNode;
    const last = nodes.pop() as DueNode;
    const lastDeadline = deadlines.pop() as number;
    const length = nodes.length;
    if (length === 0) return top;
    let index = 0;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      if (child + 1 < length && (deadlines[child + 1] as number) < (deadlines[child] as number)) {
        child++;
      }
      if ((deadlines[child] as number) >= lastDeadline) break;
      deadlines[index] = deadlines[child] as number;
      nodes[index] = nodes[child] as DueNode;
      index = child;
    }
    deadlines[index] = lastDeadline;
    nodes[index] = last;
    return top;
  }
}
