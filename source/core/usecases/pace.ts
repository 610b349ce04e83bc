// How fast the cloud's clock runs against this machine's: 1 against Vast; the embedded simulator's
// speed in the demo; a standalone simulator's announced speed (X-Vastdeck-Sim-Speed, heard on the
// client's first answer). Polls and autostop's heartbeat that must keep up with the cloud are paced
// by it, so a watchdog counting simulated minutes never mistakes a slow poll for vastdeck being gone.
export function cloudSpeed(ctx: {speed: number; client: {readonly simSpeed?: number}}): number {
  return Math.max(ctx.speed, ctx.client.simSpeed ?? 1);
}
