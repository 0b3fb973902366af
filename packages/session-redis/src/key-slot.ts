/**
 * The Redis Cluster slot of a key or sharded channel: CRC16 (XMODEM) of its hash tag, or of the
 * whole name when it has none, modulo 16384. From the Redis Cluster specification, "Key
 * distribution model" and its Appendix A, which gives this CRC16 and the hash tag rule: the
 * first `{`, then the first `}` after it, with at least one byte between them.
 */
export function keySlot(name: string): number {
  const bytes = Buffer.from(name, "utf8");
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(OPEN_BRACE);
  if (open !== -1) {
    const close = bytes.indexOf(CLOSE_BRACE, open + 1);
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  let crc = 0;
  for (let index = start; index < end; index++) {
    crc =
      ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ (bytes[index] as number)) & 0xff] ?? 0);
  }
  return crc % SLOT_COUNT;
}

const SLOT_COUNT = 16_384;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection. */
const CRC16_TABLE = Uint16Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
  return crc & 0xffff;
});
