// Tiny but valid media for the tools and prompts that return images and audio, made once with
// node:zlib and Buffer and inlined, so the server reads no file at runtime.

/** A 1×1 RGB PNG, base64. */
export const PNG_1X1_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGOQz38NAAIqAXp4ksuCAAAAAElFTkSuQmCC";

/** One millisecond of silence: a PCM WAV file, 8 kHz, mono, 8-bit, base64. */
export const WAV_SILENCE_BASE64 =
  "UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==";
