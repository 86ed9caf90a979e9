// A token store for RefreshableBearerAuth pairs, keyed by (Tenant, ClientId, Environment) as the
// seed asks ("Token-store integration"), so multi-tenant or multi-environment installs don't collide.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using Ekso.MiniJson;

namespace Ekso.Sdk.Authentication
{
    /// <summary>The key of a stored pair. Compared part by part (never as one concatenated string).</summary>
    public sealed class TokenStoreKey : IEquatable<TokenStoreKey>
    {
        public const string DefaultEnvironment = "default";

        public TokenStoreKey(string tenant, string clientId, string environment = DefaultEnvironment)
        {
            if (tenant == null) throw new ArgumentNullException("tenant");
            if (clientId == null) throw new ArgumentNullException("clientId");
            Tenant = tenant;
            ClientId = clientId;
            Environment = environment ?? DefaultEnvironment;
        }

        public string Tenant { get; private set; }
        public string ClientId { get; private set; }
        public string Environment { get; private set; }

        public bool Equals(TokenStoreKey other)
        {
            return other != null && string.Equals(Tenant, other.Tenant, StringComparison.Ordinal)
                && string.Equals(ClientId, other.ClientId, StringComparison.Ordinal)
                && string.Equals(Environment, other.Environment, StringComparison.Ordinal);
        }

        public override bool Equals(object obj) { return Equals(obj as TokenStoreKey); }

        public override int GetHashCode()
        {
            unchecked
            {
                return ((StringComparer.Ordinal.GetHashCode(Tenant) * 397) ^ StringComparer.Ordinal.GetHashCode(ClientId)) * 397 ^ StringComparer.Ordinal.GetHashCode(Environment);
            }
        }

        public override string ToString() { return "(" + Tenant + ", " + ClientId + ", " + Environment + ")"; }
    }

    /// <summary>A stored access + refresh token pair.</summary>
    public sealed class StoredTokens
    {
        public StoredTokens(string accessToken, string refreshToken, DateTimeOffset expiresAt)
        {
            AccessToken = accessToken;
            RefreshToken = refreshToken;
            ExpiresAt = expiresAt;
        }

        public string AccessToken { get; private set; }
        public string RefreshToken { get; private set; }
        public DateTimeOffset ExpiresAt { get; private set; }
    }

    public interface ITokenStore
    {
        void Save(TokenStoreKey key, StoredTokens tokens);

        /// <summary>The pair saved under exactly this key, or null.</summary>
        StoredTokens Load(TokenStoreKey key);
    }

    /// <summary>
    /// One JSON file holding every pair. Every save rewrites the file atomically (a temporary file in
    /// the same directory, mode 0600 before any secret is written, then rename(2) over the old one),
    /// so a crash leaves the old or the new file, never a torn one; the directory is created 0700.
    /// Saves within the process are serialised (read, modify, write under one lock), so concurrent
    /// saves lose nothing. Choice: one writer process at a time (the CLI's own store makes the same
    /// assumption); several processes would need a file lock on top.
    /// </summary>
    public sealed class FileTokenStore : ITokenStore
    {
        private const int FormatVersion = 1;
        private readonly object gate = new object();

        public FileTokenStore(string path)
        {
            if (string.IsNullOrEmpty(path)) throw new ArgumentException("path is required", "path");
            Path = System.IO.Path.GetFullPath(path);
        }

        public string Path { get; private set; }

        public void Save(TokenStoreKey key, StoredTokens tokens)
        {
            if (key == null) throw new ArgumentNullException("key");
            if (tokens == null) throw new ArgumentNullException("tokens");
            lock (gate)
            {
                var entries = ReadAll();
                entries[key] = tokens;
                WriteAll(entries);
            }
        }

        public StoredTokens Load(TokenStoreKey key)
        {
            if (key == null) throw new ArgumentNullException("key");
            lock (gate)
            {
                StoredTokens found;
                return ReadAll().TryGetValue(key, out found) ? found : null;
            }
        }

        private Dictionary<TokenStoreKey, StoredTokens> ReadAll()
        {
            var entries = new Dictionary<TokenStoreKey, StoredTokens>();
            if (!File.Exists(Path)) return entries;
            // Choice: an unreadable store is an error, not an empty store (which would make the next
            // save throw every other pair away).
            var root = Json.Parse(File.ReadAllText(Path, Encoding.UTF8)) as IDictionary<string, object>;
            object list;
            if (root == null || !root.TryGetValue("entries", out list) || !(list is IList<object>)) throw new InvalidDataException("token store " + Path + " is not a token store file");
            foreach (var item in (IList<object>)list)
            {
                var e = item as IDictionary<string, object>;
                if (e == null) continue;
                var key = new TokenStoreKey(Text(e, "tenant"), Text(e, "clientId"), Text(e, "environment"));
                var expiresAt = DateTimeOffset.Parse(Text(e, "expiresAt"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
                entries[key] = new StoredTokens(Text(e, "accessToken"), Text(e, "refreshToken"), expiresAt);
            }
            return entries;
        }

        private static string Text(IDictionary<string, object> entry, string name)
        {
            object value;
            var text = entry.TryGetValue(name, out value) ? value as string : null;
            if (text == null) throw new InvalidDataException("token store entry without " + name);
            return text;
        }

        private void WriteAll(Dictionary<TokenStoreKey, StoredTokens> entries)
        {
            var list = new List<object>();
            foreach (var pair in entries)
            {
                list.Add(new Dictionary<string, object>
                {
                    { "tenant", pair.Key.Tenant },
                    { "clientId", pair.Key.ClientId },
                    { "environment", pair.Key.Environment },
                    { "accessToken", pair.Value.AccessToken },
                    { "refreshToken", pair.Value.RefreshToken },
                    { "expiresAt", Iso(pair.Value.ExpiresAt) },
                });
            }
            var text = Json.Write(new Dictionary<string, object> { { "version", FormatVersion }, { "entries", list } });

            var directory = System.IO.Path.GetDirectoryName(Path);
            if (!Directory.Exists(directory))
            {
                Directory.CreateDirectory(directory);
                Posix.Chmod(directory, Posix.OwnerOnlyDirectory);
            }
            var temporary = System.IO.Path.Combine(directory, "." + System.IO.Path.GetFileName(Path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
            try
            {
                using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    Posix.Chmod(temporary, Posix.OwnerOnlyFile); // before a single secret byte is written
                    var bytes = new UTF8Encoding(false).GetBytes(text);
                    stream.Write(bytes, 0, bytes.Length);
                    stream.Flush(true);
                }
                Posix.Replace(temporary, Path);
            }
            finally
            {
                if (File.Exists(temporary)) File.Delete(temporary);
            }
        }

        internal static string Iso(DateTimeOffset value)
        {
            return value.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", CultureInfo.InvariantCulture);
        }
    }

    /// <summary>File modes and atomic replace on Unix (libc); plain .NET calls elsewhere.</summary>
    internal static class Posix
    {
        internal const uint OwnerOnlyFile = 0x180;      // 0600
        internal const uint OwnerOnlyDirectory = 0x1C0; // 0700

        private static bool IsUnix
        {
            get { var p = (int)Environment.OSVersion.Platform; return p == 4 || p == 6 || p == 128; }
        }

        [DllImport("libc", EntryPoint = "chmod", SetLastError = true)]
        private static extern int NativeChmod(string path, uint mode);

        [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
        private static extern int NativeRename(string from, string to);

        internal static void Chmod(string path, uint mode)
        {
            if (!IsUnix) return; // Windows: the user profile's ACLs apply
            if (NativeChmod(path, mode) != 0) throw new IOException("chmod " + path + " failed (errno " + Marshal.GetLastWin32Error() + ")");
        }

        /// <summary>Moves <paramref name="from"/> over <paramref name="to"/> in one step.</summary>
        internal static void Replace(string from, string to)
        {
            if (IsUnix)
            {
                if (NativeRename(from, to) != 0) throw new IOException("rename to " + to + " failed (errno " + Marshal.GetLastWin32Error() + ")");
                return;
            }
            if (File.Exists(to)) File.Replace(from, to, null);
            else File.Move(from, to);
        }
    }
}
