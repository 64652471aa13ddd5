// Original file: ../../protos/emoflux/image/v1/image.proto


/**
 * A LoRA adapter the server loaded for a variant (`--lora NAME=PATH`).
 */
export interface Adapter {
  /**
   * Name used in `GenerateRequest.adapters`.
   */
  'name'?: (string);
  /**
   * The variant whose weights the adapter modifies (the enclosing Variant).
   */
  'base_variant'?: (string);
  /**
   * Rank of the low-rank update (largest over the adapted layers).
   */
  'rank'?: (number);
  /**
   * Number of transformer layers the adapter modifies.
   */
  'layers'?: (number);
  /**
   * SHA-256 of the adapter's safetensors file, hex.
   */
  'sha256'?: (string);
  /**
   * Where the adapter was loaded from (a file path on the server).
   */
  'source'?: (string);
  /**
   * What the adapter was trained to do, from its manifest; empty when unknown.
   */
  'description'?: (string);
}

/**
 * A LoRA adapter the server loaded for a variant (`--lora NAME=PATH`).
 */
export interface Adapter__Output {
  /**
   * Name used in `GenerateRequest.adapters`.
   */
  'name': (string);
  /**
   * The variant whose weights the adapter modifies (the enclosing Variant).
   */
  'base_variant': (string);
  /**
   * Rank of the low-rank update (largest over the adapted layers).
   */
  'rank': (number);
  /**
   * Number of transformer layers the adapter modifies.
   */
  'layers': (number);
  /**
   * SHA-256 of the adapter's safetensors file, hex.
   */
  'sha256': (string);
  /**
   * Where the adapter was loaded from (a file path on the server).
   */
  'source': (string);
  /**
   * What the adapter was trained to do, from its manifest; empty when unknown.
   */
  'description': (string);
}
