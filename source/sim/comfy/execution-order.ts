// The order nodes run in, as comfy_execution/graph.py's ExecutionList picks it: the output nodes
// and their uncached ancestors, a node becomes ready when its inputs have run, and among ready
// nodes the "UX friendly" pick prefers outputs and what feeds them. Used by executor.ts.

export type PromptGraph = Record<string, {class_type: string; inputs: Record<string, unknown>}>;

export function isLink(value: unknown): value is [string, number] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number';
}

export class ExecutionList {
  private readonly pending = new Map<string, true>();
  private readonly blockCount = new Map<string, number>();
  private readonly blocking = new Map<string, Set<string>>();

  constructor(
    private readonly prompt: PromptGraph,
    private readonly isCached: (id: string) => boolean,
    private readonly isOutput: (id: string) => boolean,
  ) {}

  isEmpty(): boolean {
    return this.pending.size === 0;
  }

  /** add_node: the node and, depth first, every uncached ancestor; then the blocking links. */
  addNode(root: string): void {
    const stack = [root];
    const links: Array<[string, string]> = [];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (this.pending.has(id)) continue;
      this.pending.set(id, true);
      this.blockCount.set(id, 0);
      this.blocking.set(id, new Set());
      for (const value of Object.values(this.prompt[id]?.inputs ?? {})) {
        if (!isLink(value)) continue;
        if (!this.isCached(value[0])) stack.push(value[0]);
        links.push([value[0], id]);
      }
    }
    for (const [from, to] of links) {
      if (this.isCached(from)) continue;
      this.addNode(from);
      const blocked = this.blocking.get(from) as Set<string>;
      if (blocked.has(to)) continue;
      blocked.add(to);
      this.blockCount.set(to, (this.blockCount.get(to) ?? 0) + 1);
    }
  }

  /** The next node to run (stage_node_execution + ux_friendly_pick_node). */
  next(): string | undefined {
    const ready = [...this.pending.keys()].filter((id) => this.blockCount.get(id) === 0);
    const feeds = (id: string, depth: number): boolean =>
      [...(this.blocking.get(id) ?? [])].some((blocked) => (depth === 0 ? this.isOutput(blocked) : feeds(blocked, depth - 1)));
    return ready.find((id) => this.isOutput(id)) ?? ready.find((id) => feeds(id, 0)) ?? ready.find((id) => feeds(id, 1)) ?? ready[0];
  }

  /** complete_node_execution: the node leaves, the nodes it blocked lose one blocker. */
  complete(id: string): void {
    this.pending.delete(id);
    for (const blocked of this.blocking.get(id) ?? []) this.blockCount.set(blocked, (this.blockCount.get(blocked) ?? 1) - 1);
    this.blocking.delete(id);
  }
}
