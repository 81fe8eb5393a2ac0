package io.marginal.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.marginal.model.config.GenerationDefaults;
import io.marginal.model.config.ModelConfig;
import io.marginal.model.generate.BatchingEngine;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.generate.GenerationResult;
import io.marginal.model.generate.Generator;
import io.marginal.model.generate.TokenListener;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.scoring.Continuation;
import io.marginal.model.scoring.SequenceScorer;
import io.marginal.model.tokenizer.ChatFormat;
import io.marginal.model.tokenizer.ChatFormats;
import io.marginal.model.tokenizer.ChatMessage;
import io.marginal.model.tokenizer.TextTokenizer;
import io.marginal.model.transformer.ForwardOptions;
import io.marginal.model.transformer.HookPoint;
import io.marginal.model.transformer.ModuleHook;
import io.marginal.model.transformer.NoGradScope;
import io.marginal.model.transformer.Transformer;
import io.marginal.model.weights.ModelWeights;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What services use: a loaded checkpoint (weights, tokenizer, chat template) with generation,
 * scoring, embeddings and activation access.
 *
 * <p>Thread-safety: weights are read-only and every call works in its own sub-manager, so all
 * methods may be called concurrently from several threads, with any adapters, provided no
 * adapter being served is trained at the same time. Adapters must be created or read with
 * {@link #manager()} as their parent (same device).
 */
public final class LanguageModel implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LanguageModel.class);

  private final String name;
  private final NDManager manager;
  private final ModelWeights weights;
  private final Transformer transformer;
  private final TextTokenizer tokenizer;
  private final ChatFormat chatTemplate;
  private final GenerationDefaults generationDefaults;
  private final List<Integer> stopTokenIds;
  private final Generator generator;
  private final SequenceScorer scorer;

  private LanguageModel(String name, NDManager manager, ModelWeights weights, TextTokenizer tokenizer, ChatFormat template,
      GenerationDefaults generationDefaults) {
    this.name = name;
    this.manager = manager;
    this.weights = weights;
    this.transformer = new Transformer(weights);
    this.tokenizer = tokenizer;
    this.chatTemplate = template;
    this.generationDefaults = generationDefaults;
    List<Integer> stops = new ArrayList<>(template.stopTokenIds(tokenizer, weights.config()));
    generationDefaults.eosTokenIds().stream().filter(id -> !stops.contains(id)).forEach(stops::add);
    this.stopTokenIds = List.copyOf(stops);
    this.generator = new Generator(transformer, tokenizer, stopTokenIds);
    this.scorer = new SequenceScorer(transformer);
  }

  /**
   * Loads a Hugging Face checkpoint directory onto the configured device ({@link ComputeDevice}:
   * {@code MARGINAL_DEVICE}, by default the first GPU when PyTorch sees one, else the CPU).
   */
  public static LanguageModel load(Path checkpointDir) {
    return load(checkpointDir, ComputeDevice.configured());
  }

  /**
   * Loads {@code config.json}, the safetensors shards and {@code tokenizer.json} from
   * {@code checkpointDir} onto {@code device}, with {@code tokenizer_config.json} (chat template,
   * BOS) and {@code generation_config.json} (eos ids, sampling defaults) when present.
   *
   * @throws CheckpointException naming the missing file, unsupported architecture or field, misshapen
   *     or unused tensor, or a chat template that cannot be rendered
   */
  public static LanguageModel load(Path checkpointDir, Device device) {
    long start = System.nanoTime();
    ModelConfig config = ModelConfig.read(checkpointDir);
    TextTokenizer tokenizer = TextTokenizer.load(checkpointDir);
    if (tokenizer.vocabSize() > config.vocabSize()) {
      tokenizer.close();
      throw new CheckpointException("checkpoint " + checkpointDir + ": tokenizer.json has " + tokenizer.vocabSize()
          + " tokens but config.json vocab_size is " + config.vocabSize());
    }
    NDManager manager = NDManager.newBaseManager(device);
    try {
      ModelWeights weights = ModelWeights.load(checkpointDir, config, manager);
      weights.firstNonFinite().ifPresent(name -> {
        throw new CheckpointException("checkpoint " + checkpointDir + ": tensor '" + name + "' holds NaN or infinite values;"
            + " the checkpoint is corrupt (a diverged training run?) and cannot be served");
      });
      LanguageModel model = new LanguageModel(checkpointDir.getFileName().toString(), manager, weights, tokenizer,
          ChatFormats.forTokenizer(tokenizer), GenerationDefaults.read(checkpointDir));
      LOG.info("loaded {} from {} on {} in {} ms ({}; chat format {}; stop ids {}; BOS on raw text: {})", model.name,
          checkpointDir, device, (System.nanoTime() - start) / 1_000_000, config.describe(), model.chatTemplate.describe(),
          model.stopTokenIds, tokenizer.bosTokenId().isPresent() ? tokenizer.bosTokenId().getAsInt() : "none");
      return model;
    } catch (RuntimeException e) {
      manager.close();
      tokenizer.close();
      throw e;
    }
  }

  public String name() {
    return name;
  }

  public ModelConfig config() {
    return weights.config();
  }

  public TextTokenizer tokenizer() {
    return tokenizer;
  }

  /** The checkpoint's own chat_template, or the built-in format chosen for it. */
  public ChatFormat chatTemplate() {
    return chatTemplate;
  }

  /** generation_config.json's eos ids and sampling settings (empty when the checkpoint has none). */
  public GenerationDefaults generationDefaults() {
    return generationDefaults;
  }

  /**
   * The request the checkpoint's authors recommend, as transformers' {@code generate} would run it
   * with generation_config.json: sampling with its temperature and top_p (1.0 where absent) when
   * {@code do_sample} is true, otherwise greedy. {@code top_k} is not applied (the sampler has none).
   */
  public GenerationRequest defaultRequest(int maxTokens, long seed) {
    GenerationDefaults d = generationDefaults;
    if (d.doSample().orElse(false)) {
      double temperature = d.temperature().orElse(1.0);
      return temperature <= 0 ? GenerationRequest.greedy(maxTokens)
          : GenerationRequest.sampling(maxTokens, temperature, d.topP().orElse(1.0), seed);
    }
    return GenerationRequest.greedy(maxTokens);
  }

  public Transformer transformer() {
    return transformer;
  }

  /** The model's root manager; parent for adapters and per-request/step sub-managers. */
  public NDManager manager() {
    return manager;
  }

  /** Token ids that end generation by default: end of turn, config.json's and generation_config.json's eos ids. */
  public List<Integer> stopTokenIds() {
    return stopTokenIds;
  }

  /** The chat prompt for {@code messages}, ending where the assistant's answer begins. */
  public int[] encodeChat(List<ChatMessage> messages) {
    return tokenizer.encode(chatTemplate.render(messages, true));
  }

  /** Answers a conversation. */
  public GenerationResult chat(List<ChatMessage> messages, GenerationRequest request, ActiveAdapters adapters, TokenListener listener) {
    return generate(encodeChat(messages), request, adapters, listener);
  }

  /** Continues raw text (no chat template), tokenised as transformers' {@code tokenizer(prompt)} (BOS where it adds one). */
  public GenerationResult complete(String prompt, GenerationRequest request, ActiveAdapters adapters, TokenListener listener) {
    return generate(tokenizer.encodeText(prompt), request, adapters, listener);
  }

  public GenerationResult generate(int[] prompt, GenerationRequest request, ActiveAdapters adapters, TokenListener listener) {
    return generator.generate(prompt, request, adapters == null ? ActiveAdapters.NONE : adapters, listener);
  }

  /**
   * A continuous-batching engine over this model (its own thread; close it before the model):
   * generations submitted from any thread are decoded together, up to {@code maxBatch} at a time.
   */
  public BatchingEngine newBatchingEngine(int maxBatch) {
    return new BatchingEngine(transformer, tokenizer, stopTokenIds, maxBatch);
  }

  /** Mean-pooled final hidden state of {@code text} (raw text, BOS where the tokenizer adds one) under the base model, L2-normalised. */
  public float[] embed(String text) {
    return embed(text, ActiveAdapters.NONE);
  }

  public float[] embed(String text, ActiveAdapters adapters) {
    int[] ids = tokenizer.encodeText(text);
    if (ids.length == (tokenizer.bosTokenId().isPresent() ? 1 : 0)) { // no text tokens
      return new float[config().hiddenSize()];
    }
    try (NoGradScope noGrad = NoGradScope.open(); NDManager request = manager.newSubManager()) {
      NDArray hidden = transformer.forward(request.create(ids).reshape(1, ids.length), 0, null, ForwardOptions.inference(adapters));
      NDArray mean = hidden.mean(new int[] {1}).reshape(-1);
      NDArray norm = mean.norm().add(1e-12f);
      return mean.div(norm).toFloatArray();
    }
  }

  /**
   * {@link #embed(String)} of several texts in one forward pass: the token rows are right-padded to the
   * longest, and since attention is causal a row's real positions never see its padding, so each
   * embedding is the mean over its own positions only, as alone (equal up to float rounding of the
   * batched matrix products). One pass costs about what one text alone costs while the per-operation
   * overhead dominates, which is what a node answering many requests at once needs.
   */
  public List<float[]> embedBatch(List<String> texts) {
    List<int[]> rows = new ArrayList<>(texts.size());
    int longest = 0;
    int withText = 0;
    for (String text : texts) {
      int[] ids = tokenizer.encodeText(text);
      boolean empty = ids.length == (tokenizer.bosTokenId().isPresent() ? 1 : 0);
      rows.add(empty ? null : ids);
      if (!empty) {
        longest = Math.max(longest, ids.length);
        withText++;
      }
    }
    List<float[]> out = new ArrayList<>(texts.size());
    if (withText == 0) {
      texts.forEach(t -> out.add(new float[config().hiddenSize()]));
      return out;
    }
    int[] flat = new int[withText * longest];
    float[] mask = new float[withText * longest];
    int r = 0;
    for (int[] ids : rows) {
      if (ids != null) {
        System.arraycopy(ids, 0, flat, r * longest, ids.length);
        Arrays.fill(mask, r * longest, r * longest + ids.length, 1f);
        r++;
      }
    }
    float[] pooled;
    try (NoGradScope noGrad = NoGradScope.open(); NDManager request = manager.newSubManager()) {
      NDArray hidden = transformer.forward(request.create(flat).reshape(withText, longest), 0, null, ForwardOptions.inference(ActiveAdapters.NONE));
      NDArray valid = request.create(mask).reshape(withText, longest, 1);
      NDArray mean = hidden.mul(valid).sum(new int[] {1}).div(valid.sum(new int[] {1}));
      NDArray norm = mean.norm(new int[] {1}, true).add(1e-12f);
      pooled = mean.div(norm).toFloatArray();
    }
    int hiddenSize = config().hiddenSize();
    r = 0;
    for (int[] ids : rows) {
      if (ids == null) {
        out.add(new float[hiddenSize]);
      } else {
        out.add(Arrays.copyOfRange(pooled, r * hiddenSize, (r + 1) * hiddenSize));
        r++;
      }
    }
    return out;
  }

  /**
   * Token ids of a prompt and a continuation, tokenised separately (the scoring boundary); the prompt
   * as raw text ({@link TextTokenizer#encodeText}, BOS where the tokenizer adds one), the
   * continuation without special tokens.
   */
  public Continuation continuation(String prompt, String continuation) {
    return new Continuation(tokenizer.encodeText(prompt), tokenizer.encode(continuation));
  }

  /** Chat prompt for {@code messages} and {@code answer} as the assistant's continuation (end-of-turn token appended). */
  public Continuation chatContinuation(List<ChatMessage> messages, String answer) {
    int[] a = tokenizer.encode(answer);
    if (!stopTokenIds.isEmpty()) {
      a = Arrays.copyOf(a, a.length + 1);
      a[a.length - 1] = stopTokenIds.get(0);
    }
    return new Continuation(encodeChat(messages), a);
  }

  /** {@code log P(continuation | prompt)} summed over the continuation's tokens. */
  public double logProb(String prompt, String continuation, ActiveAdapters adapters) {
    return logProbs(List.of(continuation(prompt, continuation)), adapters)[0];
  }

  /** Summed log-probabilities of several continuations, in one batched forward pass. */
  /**
   * For each continuation, by how much its every token (and where {@code stopsAfter[i]}, then a stop token) leads the
   * runner-up logit when scored after its prompt ({@link SequenceScorer#greedyMargins}): positive where greedy
   * decoding would produce it.
   */
  public float[] greedyMargins(List<Continuation> items, boolean[] stopsAfter, ActiveAdapters adapters) {
    if (items.isEmpty()) {
      return new float[0];
    }
    try (NoGradScope noGrad = NoGradScope.open(); NDManager request = manager.newSubManager()) {
      return scorer.greedyMargins(request, items, stopsAfter, stopTokenIds, ForwardOptions.inference(adapters));
    }
  }

  public double[] logProbs(List<Continuation> items, ActiveAdapters adapters) {
    try (NoGradScope noGrad = NoGradScope.open(); NDManager request = manager.newSubManager()) {
      float[] f = scorer.logProbs(request, items, ForwardOptions.inference(adapters)).toFloatArray();
      double[] out = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        out[i] = f[i];
      }
      return out;
    }
  }

  /**
   * Differentiable {@code [N]} summed log-probabilities in {@code manager}; use inside a
   * GradientCollector ({@code options.training()} enables adapter dropout; the hook may probe).
   */
  public NDArray sequenceLogProbs(NDManager manager, List<Continuation> items, ForwardOptions options) {
    return scorer.logProbs(manager, items, options);
  }

  /** Hidden states of {@code text} (raw text, BOS where the tokenizer adds one) after every layer and after the final norm. */
  public HiddenStates hiddenStates(String text, ActiveAdapters adapters) {
    int[] ids = tokenizer.encodeText(text);
    List<float[][]> layers = new ArrayList<>();
    int h = config().hiddenSize();
    ModuleHook hook = (layer, point, output) -> {
      if (point == HookPoint.LAYER_OUTPUT) {
        layers.add(rows(output.toFloatArray(), ids.length, h));
      }
      return output;
    };
    try (NoGradScope noGrad = NoGradScope.open(); NDManager request = manager.newSubManager()) {
      NDArray hidden = transformer.forward(request.create(ids).reshape(1, ids.length), 0, null,
          new ForwardOptions(adapters, false, hook));
      return new HiddenStates(ids, layers.toArray(new float[0][][]), rows(hidden.toFloatArray(), ids.length, h));
    }
  }

  /** Runs {@code text} through the model showing every activation to {@code hook} (e.g. an ActivationRecorder). */
  public void record(String text, ActiveAdapters adapters, ModuleHook hook) {
    int[] ids = tokenizer.encodeText(text);
    try (NoGradScope noGrad = NoGradScope.open(); NDManager request = manager.newSubManager()) {
      transformer.forward(request.create(ids).reshape(1, ids.length), 0, null, new ForwardOptions(adapters, false, hook));
    }
  }

  private static float[][] rows(float[] flat, int n, int width) {
    float[][] out = new float[n][width];
    for (int i = 0; i < n; i++) {
      System.arraycopy(flat, i * width, out[i], 0, width);
    }
    return out;
  }

  /** Wraps already-built parts (tests, the demo builder). The model takes ownership of all. */
  public static LanguageModel of(String name, NDManager manager, ModelWeights weights, TextTokenizer tokenizer) {
    return new LanguageModel(name, manager, weights, tokenizer, ChatFormats.forTokenizer(tokenizer), GenerationDefaults.NONE);
  }

  @Override
  public void close() {
    manager.close();
    tokenizer.close();
  }
}
