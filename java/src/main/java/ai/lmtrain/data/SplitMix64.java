package ai.lmtrain.data;

/**
 * SplitMix64 (Steele, Lea and Flood, 2014): a tiny PRNG whose whole state is one {@code long}, so
 * shuffles and masks can be checkpointed and resumed exactly. The same seed always gives the
 * same sequence, on every JVM. Not thread-safe.
 */
public final class SplitMix64 {

  private long state;

  /** A generator starting from {@code seed}. */
  public SplitMix64(long seed) {
    this.state = seed;
  }

  /** The current state; {@code new SplitMix64(state())} continues the same sequence. */
  public long state() {
    return state;
  }

  /** The next 64 random bits. */
  public long nextLong() {
    long z = (state += 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** A uniform double in [0, 1). */
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** A uniform int in [0, bound), bound &gt; 0 (unbiased, by rejection). */
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive, got " + bound);
    }
    int m = bound - 1;
    int r = (int) (nextLong() >>> 33);
    if ((bound & m) == 0) {
      return r & m;
    }
    for (int u = r; u - (r = u % bound) + m < 0; u = (int) (nextLong() >>> 33)) {
      // reject the top partial range so every residue is equally likely
    }
    return r;
  }

  /** Shuffles {@code a} in place (Fisher-Yates). */
  public void shuffle(int[] a) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
