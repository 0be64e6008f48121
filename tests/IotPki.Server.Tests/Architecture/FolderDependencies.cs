using Mono.Cecil;
using Mono.Cecil.Cil;

namespace IotPki.Server.Tests.Architecture;

/// <summary>Which folder of the server uses which other folder's types, read from the compiled assembly: signatures,
/// attributes and every type or member a method body touches (lambdas and async state machines count for the type
/// that declares them).</summary>
public static class FolderDependencies
{
    private const string Root = "IotPki.Server.";

    public sealed record Use(string From, string To, string FromType, string ToType);

    public static IReadOnlyList<Use> Read(string assemblyPath)
    {
        using var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(assemblyPath))!);
        // The shared frameworks (ASP.NET Core beside the runtime), for the enums in attribute arguments.
        var runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        foreach (var framework in Directory.EnumerateDirectories(Path.Combine(runtime, "..", ".."), "*", SearchOption.TopDirectoryOnly))
        {
            var sameVersion = Path.Combine(framework, Path.GetFileName(runtime));
            if (Directory.Exists(sameVersion))
            {
                resolver.AddSearchDirectory(sameVersion);
            }
        }
        using var module = ModuleDefinition.ReadModule(assemblyPath, new ReaderParameters { AssemblyResolver = resolver });
        var uses = new HashSet<Use>();
        foreach (var type in module.GetTypes())
        {
            var outer = Outermost(type);
            if (FolderOf(outer.Namespace) is not { } from)
            {
                continue;
            }
            void Note(TypeReference? referenced)
            {
                foreach (var target in Unwrap(referenced))
                {
                    var targetOuter = Outermost(target);
                    if (FolderOf(targetOuter.Namespace) is { } to && to != from)
                    {
                        uses.Add(new Use(from, to, outer.Name, targetOuter.Name));
                    }
                }
            }
            void NoteMember(MemberReference member)
            {
                Note(member.DeclaringType);
                switch (member)
                {
                    case MethodReference m:
                        Note(m.ReturnType);
                        foreach (var p in m.Parameters) Note(p.ParameterType);
                        if (m is GenericInstanceMethod g) foreach (var a in g.GenericArguments) Note(a);
                        break;
                    case FieldReference f:
                        Note(f.FieldType);
                        break;
                }
            }
            void NoteAttributes(ICustomAttributeProvider provider)
            {
                foreach (var attribute in provider.CustomAttributes)
                {
                    Note(attribute.AttributeType);
                    foreach (var argument in attribute.ConstructorArguments) Note(argument.Value as TypeReference);
                }
            }

            Note(type.BaseType);
            foreach (var i in type.Interfaces) Note(i.InterfaceType);
            NoteAttributes(type);
            foreach (var field in type.Fields) { Note(field.FieldType); NoteAttributes(field); }
            foreach (var property in type.Properties) { Note(property.PropertyType); NoteAttributes(property); }
            foreach (var method in type.Methods)
            {
                NoteAttributes(method);
                Note(method.ReturnType);
                foreach (var p in method.Parameters) Note(p.ParameterType);
                if (!method.HasBody)
                {
                    continue;
                }
                foreach (var local in method.Body.Variables) Note(local.VariableType);
                foreach (var instruction in method.Body.Instructions)
                {
                    switch (instruction.Operand)
                    {
                        case TypeReference t: Note(t); break;
                        case MemberReference m: NoteMember(m); break;
                    }
                }
            }
        }
        return [.. uses.OrderBy(u => u.From).ThenBy(u => u.To).ThenBy(u => u.FromType).ThenBy(u => u.ToType)];
    }

    /// <summary>What the compiled code cannot show: a constant is copied into its user's IL, so a folder that only uses
    /// another's constants (role names, a scheme name) is found by its source, its <c>using</c> directives and its
    /// qualified names (<c>IotPki.Server.Fleet.X</c>, <c>Fleet.X</c>).</summary>
    public static IReadOnlyList<Use> ReadSources(string serverProjectDirectory)
    {
        var folders = Directory.EnumerateDirectories(serverProjectDirectory).Select(Path.GetFileName).OfType<string>()
            .Where(f => f is not ("bin" or "obj")).ToHashSet();
        var qualified = new System.Text.RegularExpressions.Regex(
            @"(?<![\w.])(?:IotPki\.Server\.)?(?<folder>" + string.Join("|", folders) + @")\.(?<type>[A-Z]\w*)");
        var uses = new HashSet<Use>();
        foreach (var from in folders)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(serverProjectDirectory, from), "*.cs", SearchOption.AllDirectories))
            {
                foreach (var line in File.ReadLines(file))
                {
                    var code = line.TrimStart();
                    if (code.StartsWith("//", StringComparison.Ordinal) || code.StartsWith("namespace ", StringComparison.Ordinal))
                    {
                        continue;
                    }
                    if (code.StartsWith("using IotPki.Server.", StringComparison.Ordinal))
                    {
                        var to = FolderOf(code["using ".Length..].TrimEnd(';'));
                        if (to is not null && to != from)
                        {
                            uses.Add(new Use(from, to, Path.GetFileNameWithoutExtension(file), "using " + to));
                        }
                        continue;
                    }
                    foreach (System.Text.RegularExpressions.Match m in qualified.Matches(code))
                    {
                        if (m.Groups["folder"].Value is var to && to != from)
                        {
                            uses.Add(new Use(from, to, Path.GetFileNameWithoutExtension(file), m.Groups["type"].Value));
                        }
                    }
                }
            }
        }
        return [.. uses.OrderBy(u => u.From).ThenBy(u => u.To)];
    }

    /// <summary>The folder (first namespace segment under IotPki.Server) of a namespace, or null outside it.</summary>
    public static string? FolderOf(string ns) =>
        ns.StartsWith(Root, StringComparison.Ordinal) ? ns[Root.Length..].Split('.')[0] : null;

    private static TypeReference Outermost(TypeReference type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }
        return type;
    }

    private static IEnumerable<TypeReference> Unwrap(TypeReference? type)
    {
        switch (type)
        {
            case null:
                yield break;
            case GenericInstanceType generic:
                yield return generic.ElementType;
                foreach (var a in generic.GenericArguments)
                    foreach (var inner in Unwrap(a)) yield return inner;
                break;
            case TypeSpecification spec:
                foreach (var inner in Unwrap(spec.ElementType)) yield return inner;
                break;
            case GenericParameter:
                yield break;
            default:
                yield return type;
                break;
        }
    }
}
