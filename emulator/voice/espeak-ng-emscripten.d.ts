// The part of @echogarden/espeak-ng-emscripten (an Emscripten WebIDL build of eSpeak NG, no typings of its
// own) that emulator/voice/tts.ts uses; names as the package's espeak-ng.js defines them.
declare module '@echogarden/espeak-ng-emscripten' {
  export interface ESpeakEvent {
    type: string;
    text_position: number;
    word_length: number;
    audio_position: number;
    id?: string | number;
  }
  export interface ESpeakVoiceInfo {
    name: string;
    identifier: string;
    languages: { priority: number; name: string }[];
  }
  export interface ESpeakNGWorker {
    /** espeak_SetVoiceByName when only a name is given: 'en-us', 'en-us+f2' (a variant after '+'). */
    set_voice(name: string, language?: string, gender?: number, age?: number, variant?: string): number;
    set_rate(wordsPerMinute: number): void;
    get_rate(): number;
    set_pitch(pitch: number): void;
    get_pitch(): number;
    set_range(range: number): void;
    get_samplerate(): number;
    list_voices(): ESpeakVoiceInfo[];
    /** Calls back with each chunk of 16-bit samples; return true to stop. */
    synthesize(text: string, callback: (samples: Int16Array, events: ESpeakEvent[]) => boolean): void;
  }
  export interface ESpeakModule {
    eSpeakNGWorker: new () => ESpeakNGWorker;
  }
  const createModule: (options?: object) => Promise<ESpeakModule>;
  export default createModule;
}
