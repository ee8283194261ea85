from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from hosts.uuidsite.models import Note


@login_required
def home(request):
    return render(request, "uuidsite/home.html")


@login_required
def note(request, pk):
    obj = get_object_or_404(Note.objects.filter(notebook__workspace__members=request.user), pk=pk)
    return render(request, "uuidsite/note.html", {"note": obj})
