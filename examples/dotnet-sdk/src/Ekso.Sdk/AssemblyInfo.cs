using System.Reflection;

[assembly: AssemblyTitle("Ekso.Sdk (example)")]
[assembly: AssemblyDescription("A small C# implementation of the Ekso SDK's auth surface, written from its docs, to show how a .NET SDK is tested with ekso-conformance.")]
[assembly: AssemblyVersion("0.1.0.0")]
