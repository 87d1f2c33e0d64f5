package ai.lmtrain.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The seal of a complete save: {@value #FILE_NAME} lists every file of a saved folder with its size
 * and CRC-32C. {@link CheckpointWriter} writes it last into the staging folder, after every file is
 * on disk, so a staging folder whose manifest is present and matches its files is a complete save,
 * and one without is an interrupted one.
 */
final class SaveManifest {
  /** The manifest's name inside a saved folder. */
  static final String FILE_NAME = "save_manifest.json";

  private static final String FORMAT = "lmtrain-save-manifest";
  private static final int CHUNK = 1 << 20;

  private SaveManifest() {}

  /** One listed file: its path relative to the folder ('/'-separated), size and checksum. */
  private record Item(String path, long bytes, String crc32c) {}

  /** Lists every regular file under {@code folder} and writes the manifest atomically. */
  static void write(Path folder) throws IOException {
    ObjectNode root = StrictJson.MAPPER.createObjectNode().put("format", FORMAT).put("version", 1);
    ArrayNode files = root.putArray("files");
    for (Item item : scan(folder)) {
      files.addObject().put("path", item.path()).put("bytes", item.bytes()).put("crc32c", item.crc32c());
    }
    AtomicFiles.writeString(folder.resolve(FILE_NAME), root.toPrettyString() + "\n");
  }

  /**
   * Why {@code folder} is not a complete, intact save, or null when its manifest is present and
   * every listed file exists with the listed size and checksum.
   */
  static String problem(Path folder) throws IOException {
    Path file = folder.resolve(FILE_NAME);
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return "no " + FILE_NAME + " (the save did not finish)";
    }
    List<Item> listed = new ArrayList<>();
    try {
      JsonFields fields = JsonFields.of(file, StrictJson.readObject(file));
      if (!FORMAT.equals(fields.text("format"))) {
        return file + ": not a save manifest";
      }
      JsonNode items = fields.node().get("files");
      if (items == null || !items.isArray()) {
        return file + ": missing the files array";
      }
      for (JsonNode item : items) {
        if (!(item instanceof ObjectNode object)) {
          return file + ": a files entry is not an object";
        }
        JsonFields entry = JsonFields.of(file, object);
        listed.add(new Item(entry.text("path"), entry.integer("bytes", 0, Long.MAX_VALUE), entry.text("crc32c")));
      }
    } catch (FileFormatException e) {
      return e.getMessage();
    }
    List<Item> actual = scan(folder);
    for (Item item : listed) {
      if (!actual.contains(item)) {
        return item.path() + " is missing or differs from " + FILE_NAME + " (" + item.bytes() + " bytes, CRC-32C "
            + item.crc32c() + ")";
      }
    }
    for (Item item : actual) {
      if (!listed.contains(item)) {
        return item.path() + " is not listed in " + FILE_NAME;
      }
    }
    return null;
  }

  /** Every regular file under {@code folder} but the manifest, sorted by relative path. */
  private static List<Item> scan(Path folder) throws IOException {
    List<Path> paths;
    try (Stream<Path> walk = Files.walk(folder)) {
      paths = walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
          .filter(p -> !p.equals(folder.resolve(FILE_NAME)))
          .sorted().toList();
    }
    List<Item> items = new ArrayList<>();
    for (Path p : paths) {
      String relative = folder.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/");
      items.add(checksum(p, relative));
    }
    return items;
  }

  private static Item checksum(Path file, String relative) throws IOException {
    CRC32C crc = new CRC32C();
    long bytes = 0;
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
      while (channel.read(buffer) >= 0) {
        buffer.flip();
        bytes += buffer.remaining();
        crc.update(buffer);
        buffer.clear();
      }
    }
    return new Item(relative, bytes, HexFormat.of().toHexDigits((int) crc.getValue()));
  }
}
