// Loads an audiowaveform JSON file with the npm package waveform-data and resamples it to a
// width in pixels, printing what waveform-data read: node resample.mjs WAVEFORM.json WIDTH
import { readFileSync } from "node:fs";
import WaveformData from "waveform-data";

const [path, width] = process.argv.slice(2);
const waveform = WaveformData.create(JSON.parse(readFileSync(path, "utf8")));
const resampled = waveform.resample({ width: Number(width) });
const channel = waveform.channel(0);
const resampledChannel = resampled.channel(0);
console.log(
  JSON.stringify({
    channels: waveform.channels,
    bits: waveform.bits,
    sampleRate: waveform.sample_rate,
    scale: waveform.scale,
    length: waveform.length,
    duration: waveform.duration,
    min: Math.min(...channel.min_array()),
    max: Math.max(...channel.max_array()),
    resampled: {
      length: resampled.length,
      scale: resampled.scale,
      min: Math.min(...resampledChannel.min_array()),
      max: Math.max(...resampledChannel.max_array()),
    },
  }),
);
